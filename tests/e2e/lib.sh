# Shared by the end-to-end tests: network namespaces, the real controller
# and agents as separate processes, and cleanup that runs on every exit.
#
# Every namespace is named "ikl<PID>-<role>" and every process started is
# remembered by PID; cleanup kills exactly those PIDs and deletes exactly
# those namespaces. Addresses are from 198.18.0.0/15 only.
set -euo pipefail

E2E_ID="ikl$$"
E2E_DIR=$(mktemp -d "${TEST_TMPDIR:-/tmp}/e2e.XXXXXX")
E2E_PIDS=()
E2E_NS=()
E2E_FAILED=0

say() { printf '[e2e %s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { say "FAIL: $*"; E2E_FAILED=1; exit 1; }

e2e_cleanup() {
  local rc=$?
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${E2E_PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${E2E_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if ((rc != 0)); then
    for f in "$E2E_DIR"/*.log; do
      [[ -f $f ]] || continue
      echo "----- $(basename "$f") (last 40 lines)"
      tail -n 40 "$f"
    done
  fi
  rm -rf "$E2E_DIR"
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "e2e tests need root (network namespaces, TUN); skipped"
    exit 0
  fi
  [[ -c /dev/net/tun ]] || fail "/dev/net/tun is missing"
}

# ns NAME: creates namespace $E2E_ID-NAME with loopback up.
ns() {
  local n="$E2E_ID-$1"
  ip netns add "$n"
  E2E_NS+=("$n")
  ip -n "$n" link set lo up
  ip netns exec "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}
nsx() { local n="$E2E_ID-$1"; shift; ip netns exec "$n" "$@"; }

# link A ADDR_A B ADDR_B: a veth pair between two namespaces.
link() {
  local a=$1 addr_a=$2 b=$3 addr_b=$4
  local ia="v${b}" ib="v${a}"
  ip link add "$ia" netns "$E2E_ID-$a" type veth peer name "$ib" netns "$E2E_ID-$b"
  ip -n "$E2E_ID-$a" addr add "$addr_a" dev "$ia"
  ip -n "$E2E_ID-$b" addr add "$addr_b" dev "$ib"
  ip -n "$E2E_ID-$a" link set "$ia" up
  ip -n "$E2E_ID-$b" link set "$ib" up
}

# two_sites: two gateways (a 198.18.0.1, b 198.18.0.2) on one link, a host
# behind each (ha 198.18.10.2, hb 198.18.20.2), the controller's namespace
# ctl reachable from a (198.18.100.1) and b (198.18.100.5).
two_sites() {
  for n in ctl a b ha hb; do ns $n; done
  link a 198.18.0.1/24 b 198.18.0.2/24
  link ha 198.18.10.2/24 a 198.18.10.1/24
  link hb 198.18.20.2/24 b 198.18.20.1/24
  link ctl 198.18.100.1/30 a 198.18.100.2/30
  link ctl 198.18.100.5/30 b 198.18.100.6/30
  nsx ha ip route add default via 198.18.10.1
  nsx hb ip route add default via 198.18.20.1
  for g in a b; do nsx $g sysctl -qw net.ipv4.ip_forward=1; done
}

# bg NS LOG CMD...: runs CMD in namespace NS in the background.
bg() {
  local n=$1 log=$2; shift 2
  ip netns exec "$E2E_ID-$n" "$@" >>"$E2E_DIR/$log.log" 2>&1 &
  E2E_PIDS+=("$!")
  LAST_PID=$!
}

# wait_for SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
  local t=$1; shift
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

# pings NS COUNT DEST [ping options]: COUNT echo requests, every one answered.
pings() {
  local n=$1 count=$2 dest=$3; shift 3
  local out
  out=$(nsx "$n" ping -n -c "$count" -W 2 "$@" "$dest" 2>&1) || true
  if ! grep -q " $count received" <<<"$out"; then
    say "$(grep -E 'transmitted' <<<"$out")"
    return 1
  fi
}

# stop_pid PID [SIGNAL]: signals a PID we started, waits up to 5 s, then
# kills it; reaped, it is forgotten (no later signal to a reused PID).
stop_pid() {
  local pid=$1 sig=${2:-TERM}
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=() p
  for p in "${E2E_PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  E2E_PIDS=("${kept[@]}")
}

# Mutual TLS everywhere, as in production: a CA made for this run, a
# controller certificate, an admin certificate for ipsecctl (through
# IKELESS_TLS_*) and one certificate per node naming its address.
e2e_pki() {
  local ca_bin=$1 pki="$E2E_DIR/pki"
  E2E_CA_BIN=$ca_bin
  "$ca_bin" init --dir "$pki" >/dev/null
  "$ca_bin" issue server controller --dns ikeless-controller --dir "$pki" --out "$pki/controller" >/dev/null
  "$ca_bin" issue admin e2e --dir "$pki" --out "$pki/admin" >/dev/null
  E2E_TLS_FLAGS="--tls_ca=$pki/ca.crt --tls_cert=$pki/controller.crt --tls_key=$pki/controller.key"
  export IKELESS_TLS_CA="$pki/ca.crt" IKELESS_TLS_CERT="$pki/admin.crt" IKELESS_TLS_KEY="$pki/admin.key"
}
E2E_TLS_FLAGS="--insecure"
# agent_tls NAME ADDRESS: the agent config lines for its connection.
agent_tls() {
  if [[ -z ${E2E_CA_BIN:-} ]]; then echo "insecure: true"; return; fi
  local pki="$E2E_DIR/pki"
  [[ -f "$pki/$1.crt" ]] || "$E2E_CA_BIN" issue node "$1" --address "$2" --dir "$pki" --out "$pki/$1" >/dev/null
  echo "tls { ca_file: \"$pki/ca.crt\" cert_file: \"$pki/$1.crt\" key_file: \"$pki/$1.key\" }"
}

# controller NS LISTEN [flags]: starts the controller, waits until it answers.
start_controller() {
  local n=$1 listen=$2; shift 2
  bg "$n" controller "$CONTROLLER_BIN" --listen="$listen" --data_dir="$E2E_DIR/ctl" $E2E_TLS_FLAGS "$@"
  CONTROLLER_PID=$LAST_PID
  wait_for 10 nsx "$n" "$IPSECCTL_BIN" --controller "$listen" policy list \
    || fail "controller did not start"
}

# agent NS NAME CONFIG_FILE: starts an agent, waits for its TUN device.
start_agent() {
  local n=$1 name=$2 config=$3
  bg "$n" "agent-$name" "$AGENT_BIN" --config="$config"
  AGENT_PID=$LAST_PID
  wait_for 10 nsx "$n" ip link show ikl0 || fail "agent $name did not create ikl0"
  nsx "$n" ip link set ikl0 up
}

# ctl ARGS...: ipsecctl against the controller in namespace ctl.
ctl() { nsx ctl "$IPSECCTL_BIN" --controller 127.0.0.1:50051 "$@"; }
agents_connected() { [[ $(ctl agents list -o json | grep -o '"connected": true' | wc -l) == "$1" ]]; }

# site_agent_configs [LINES]: the agent configs gw-a.conf and gw-b.conf for
# two_sites' gateways, each protecting its site toward the other's, with
# LINES (agent config text) added to both.
site_agent_configs() {
  local extra=${1:-} name self peer local_net remote_net controller
  while read -r name self peer local_net remote_net controller; do
    cat >"$E2E_DIR/$name.conf" <<CONF
node_name: "$name"
$(agent_tls "$name" "$self" </dev/null)
controller: "$controller:50051"
addresses: "$self"
esp { tun_name: "ikl0" }
spd { name: "site" local: "$local_net" remote: "$remote_net" action: PROTECT setup_peer: "$peer" }
$extra
CONF
  done <<SITES
gw-a 198.18.0.1 198.18.0.2 198.18.10.0/24 198.18.20.0/24 198.18.100.1
gw-b 198.18.0.2 198.18.0.1 198.18.20.0/24 198.18.10.0/24 198.18.100.5
SITES
}

# start_gateway NS NAME REMOTE_NET: starts NAME's agent (NAME.conf) and
# routes the remote site into its TUN.
start_gateway() {
  start_agent "$1" "$2" "$E2E_DIR/$2.conf"
  nsx "$1" ip route replace "$3" dev ikl0
}
