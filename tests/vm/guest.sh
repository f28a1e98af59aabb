#!/usr/bin/env bash
# Runs inside the VM (tests/vm/run.sh), as root, in a chroot of the host's
# file system (read-only, over 9p) on Debian's own kernel with ESP. Proves
# what this machine's kernel cannot:
#   1. the datapath conformance suite and the XFRM backend's tests with
#      every SA case (states, algorithms, lifetimes) on a real ESP kernel;
#   2. the real controller and two agents on kernel XFRM in two namespaces:
#      a ping crosses kernel ESP, the first packet included;
#   3. interop: one gateway on kernel XFRM, the other on the in-process
#      engine, traffic both ways, for AES-GCM and for AES-CBC + HMAC-SHA-256
#      (two independent ESP implementations agreeing on the wire);
#   4. IPv6 sites behind IPv4 gateways, kernel XFRM on both;
#   5. SPD push on kernel XFRM: agent configs with no spd rule, the SPD
#      derived from node records and one policy; deleting the policy turns
#      the ESP policies into block policies (fail closed) and removes the
#      SAs, adding it again brings them and the traffic back.
# Prints "IKELESS-VM-RESULT: N passed, M failed" last.
#
# usage: guest.sh CONTROLLER IPSECCTL AGENT CA CONFORMANCE_TEST XFRM_TEST
set -uo pipefail
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3 CA_BIN=$4 CONFORMANCE_TEST=$5 XFRM_TEST=$6
passed=0 failed=0
result() {  # NAME RC
  if (($2 == 0)); then passed=$((passed + 1)); echo "VM-CASE PASS $1"
  else failed=$((failed + 1)); echo "VM-CASE FAIL $1"; fi
}

echo "kernel $(uname -r); loaded: $(cut -d' ' -f1 /proc/modules | grep -E '^(esp4|esp6|xfrm_user|gcm|chacha20poly1305)$' | tr '\n' ' ')"

# 1. Unit suites on a real ESP kernel: nothing may be skipped here (but the
#    case for a kernel *without* ESP, which this one is not).
for t in "$CONFORMANCE_TEST" "$XFRM_TEST"; do
  out=$(TEST_TMPDIR=/tmp "$t" --gtest_filter=-*KernelWithoutEsp* 2>&1); rc=$?
  echo "$out" | grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) ' || true
  if echo "$out" | grep -q '^\[  SKIPPED \] [A-Z]'; then
    echo "$out" | grep -A2 'Skipped' | head -20
    rc=1
  fi
  ((rc == 0)) || echo "$out" | grep -vE '^ts=' | tail -40
  result "$(basename "$t") (no case skipped)" "$rc"
done

# 2 to 5: real processes in namespaces (tests/e2e/lib.sh).
( # a subshell: lib.sh's EXIT trap cleans up its namespaces and PIDs here
source "$(dirname "$0")/../e2e/lib.sh"
e2e_pki "$CA_BIN"
two_sites
ctl() { nsx ctl "$IPSECCTL_BIN" --controller 127.0.0.1:50051 "$@"; }

agent_config() {  # NAME SELF PEER LOCAL_NET REMOTE_NET CONTROLLER DATAPATH
  local datapath='esp { tun_name: "ikl0" }'
  [[ $7 == xfrm ]] && datapath='xfrm {}'
  cat >"$E2E_DIR/$1.conf" <<CONF
node_name: "$1"
$(agent_tls "$1" "$2")
controller: "$6:50051"
addresses: "$2"
$datapath
spd { name: "site" local: "$4" remote: "$5" action: PROTECT setup_peer: "$3" }
CONF
}

# gateway NS NAME DATAPATH REMOTE_NET PEER: starts the agent and routes the
# remote site: into the TUN for the engine, via the peer for XFRM (the
# kernel then applies the out policy).
gateway() {
  local n=$1 name=$2 dp=$3 remote=$4 peer=$5
  bg "$n" "agent-$name-$CASE" "$AGENT_BIN" --config="$E2E_DIR/$name.conf"
  PIDS_OF_CASE+=("$LAST_PID")
  if [[ $dp == xfrm ]]; then
    wait_for 20 bash -c "ip -n $E2E_ID-$n xfrm policy | grep -q 'dir out'" ||
      fail "agent $name installed no XFRM policy"
    nsx "$n" ip route replace "$remote" via "$peer"
  else
    wait_for 20 nsx "$n" ip link show ikl0 || fail "agent $name did not create ikl0"
    nsx "$n" ip link set ikl0 up
    nsx "$n" ip route replace "$remote" dev ikl0
  fi
}

# run_case NAME DATAPATH_A DATAPATH_B ipsecctl-algorithm-flags...
run_case() {
  CASE=$1; local da=$2 db=$3; shift 3
  PIDS_OF_CASE=()
  say "case $CASE: gw-a on $da, gw-b on $db, $*"
  start_controller ctl 0.0.0.0:50051 --data_dir="$E2E_DIR/ctl-$CASE" --startup_interval=1s
  PIDS_OF_CASE+=("$CONTROLLER_PID")
  ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel "$@" >/dev/null ||
    fail "policy add"
  agent_config gw-a 198.18.0.1 198.18.0.2 198.18.10.0/24 198.18.20.0/24 198.18.100.1 "$da"
  agent_config gw-b 198.18.0.2 198.18.0.1 198.18.20.0/24 198.18.10.0/24 198.18.100.5 "$db"
  gateway a gw-a "$da" 198.18.20.0/24 198.18.0.2
  gateway b gw-b "$db" 198.18.10.0/24 198.18.0.1
  # The very first packet: one ping, no retry (FIG. 18 S35/S36; for XFRM
  # the kernel holds it while the agent asks, xfrm_larval_drop = 0).
  nsx ha ping -c 1 -W 10 198.18.20.2 >"$E2E_DIR/first-$CASE.log" || fail "$CASE: the first packet was lost"
  pings ha 10 198.18.20.2 -i 0.1 || fail "$CASE: a -> b"
  pings hb 10 198.18.10.2 -i 0.1 || fail "$CASE: b -> a"
  local states side dp
  for side in a b; do
    dp=$da; [[ $side == b ]] && dp=$db
    [[ $dp == xfrm ]] || continue
    states=$(nsx "$side" ip -s xfrm state)
    { echo "$states" | grep -E '^src|aead|enc |auth-trunc|encap|^\s+[0-9]+\(bytes\)' || true; } |
      sed 's/0x[0-9a-f]\{16,\}/<key>/g'
    [[ $(echo "$states" | grep -c '^src 198.18.0') -ge 2 ]] || fail "$CASE: no kernel ESP states on $side"
    echo "$states" | grep -qE "$EXPECT_ALG" || fail "$CASE: kernel states on $side do not use $EXPECT_ALG"
  done
  if [[ -n ${REKEY:-} ]]; then
    # Soft EXPIRE -> rekey (FIG. 27) on kernel XFRM under traffic: the
    # policy's 8 s lifetime (soft 4 s, jittered) forces rekeys during 12 s
    # of pings; make-before-break loses none.
    local before after
    before=$(grep -c 'event=association_established' "$E2E_DIR/controller.log" || true)
    nsx ha ping -q -c 120 -i 0.1 -W 1 198.18.20.2 >"$E2E_DIR/rekey-$CASE.log" || true
    after=$(grep -c 'event=association_established' "$E2E_DIR/controller.log" || true)
    say "$CASE: $((after - before)) rekeys; $(grep -E 'packets transmitted' "$E2E_DIR/rekey-$CASE.log")"
    ((after - before >= 1)) || fail "$CASE: no rekey happened"
    grep -q ' 0% packet loss' "$E2E_DIR/rekey-$CASE.log" || fail "$CASE: packets lost across the rekey"
    grep -q 'event=sa_soft_expired' "$E2E_DIR/agent-gw-a-$CASE.log" "$E2E_DIR/agent-gw-b-$CASE.log" ||
      fail "$CASE: no soft EXPIRE reached an agent"
  fi
  ! grep -q 'distribution_sent_without_peer_install' "$E2E_DIR/controller.log" ||
    fail "$CASE: a Distribution did not wait for the XFRM peer's INSTALLED"
  for pid in "${PIDS_OF_CASE[@]}"; do stop_pid "$pid" TERM; done
  for side in a b; do
    [[ -z $(nsx "$side" ip xfrm policy) ]] || fail "$CASE: $side kept XFRM policies after its agent exited"
    [[ -z $(nsx "$side" ip xfrm state) ]] || fail "$CASE: $side kept XFRM states after its agent exited"
  done
  say "case $CASE: PASS"
}

REKEY=1 EXPECT_ALG='rfc4106\(gcm\(aes\)\)' run_case xfrm-both-gcm xfrm xfrm --encryption aes-gcm-16 \
  --lifetime 8s --soft-lifetime 4s
EXPECT_ALG='rfc4106\(gcm\(aes\)\)' run_case interop-gcm xfrm esp --encryption aes-gcm-16
EXPECT_ALG='hmac\(sha256\)' run_case interop-cbc-sha256 xfrm esp \
  --encryption aes-cbc --integrity hmac-sha2-256-128
EXPECT_ALG='hmac\(sha256\)' run_case interop-cbc-sha256-reversed esp xfrm \
  --encryption aes-cbc --integrity hmac-sha2-256-128

# IPv6 sites behind IPv4 gateways on kernel XFRM. The states carry
# XFRM_STATE_AF_UNSPEC: without it the kernel gives them the outer family
# and no IPv6 packet ever matches them.
v6_over_v4_case() {
  CASE=xfrm-v6-over-v4
  PIDS_OF_CASE=()
  say "case $CASE: fd00:10::/64 <-> fd00:20::/64 over 198.18.0.1 <-> 198.18.0.2"
  nsx ha ip -6 addr add fd00:10::2/64 dev va nodad
  nsx ha ip -6 route add default via fd00:10::1
  nsx hb ip -6 addr add fd00:20::2/64 dev vb nodad
  nsx hb ip -6 route add default via fd00:20::1
  nsx a ip -6 addr add fd00:10::1/64 dev vha nodad
  nsx b ip -6 addr add fd00:20::1/64 dev vhb nodad
  for g in a b; do nsx "$g" sysctl -qw net.ipv6.conf.all.forwarding=1; done
  start_controller ctl 0.0.0.0:50051 --data_dir="$E2E_DIR/ctl-$CASE" --startup_interval=1s
  PIDS_OF_CASE+=("$CONTROLLER_PID")
  ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel --encryption aes-gcm-16 \
    >/dev/null || fail "policy add"
  agent_config gw-a 198.18.0.1 198.18.0.2 fd00:10::/64 fd00:20::/64 198.18.100.1 xfrm
  agent_config gw-b 198.18.0.2 198.18.0.1 fd00:20::/64 fd00:10::/64 198.18.100.5 xfrm
  # On-link routes into the gateway link: the out policy turns them into
  # IPv4 ESP to the peer before any neighbour lookup.
  gateway a gw-a xfrm 198.18.20.0/24 198.18.0.2
  nsx a ip -6 route add fd00:20::/64 dev vb
  gateway b gw-b xfrm 198.18.10.0/24 198.18.0.1
  nsx b ip -6 route add fd00:10::/64 dev va
  nsx ha ping -6 -c 1 -W 10 fd00:20::2 >/dev/null || fail "$CASE: the first packet was lost"
  pings ha 10 fd00:20::2 -6 -i 0.1 || fail "$CASE: a -> b"
  pings hb 10 fd00:10::2 -6 -i 0.1 || fail "$CASE: b -> a"
  for side in a b; do
    # Not `ip | grep -q`: under pipefail, grep's early exit can SIGPIPE ip.
    grep -q 'af-unspec' <<<"$(nsx "$side" ip xfrm state)" || fail "$CASE: $side's states lack af-unspec"
  done
  for pid in "${PIDS_OF_CASE[@]}"; do stop_pid "$pid" TERM; done
  say "case $CASE: PASS"
}
v6_over_v4_case

# SPD push on kernel XFRM: the agents' configs hold no spd rule; the
# controller derives each gateway's SPD from the node records (a site each)
# and one tunnel-mode policy and pushes it; the agents install it as kernel
# policies. Deleting the policy leaves the site pair governed by nothing:
# the pushed SPD discards it (block policies, no template) and the SAs go.
xfrm_spd_push_case() {
  CASE=xfrm-spd-push
  PIDS_OF_CASE=()
  say "case $CASE: no spd rules in the agent configs, node records and one policy pushed"
  start_controller ctl 0.0.0.0:50051 --data_dir="$E2E_DIR/ctl-$CASE" --startup_interval=1s
  PIDS_OF_CASE+=("$CONTROLLER_PID")
  ctl nodes add gw-a --address 198.18.0.1 --site 198.18.10.0/24 >/dev/null || fail "nodes add gw-a"
  ctl nodes add gw-b --address 198.18.0.2 --site 198.18.20.0/24 >/dev/null || fail "nodes add gw-b"
  ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel --encryption aes-gcm-16 \
    >/dev/null || fail "policy add"
  local g self ctl_addr
  for g in a b; do
    self=198.18.0.1 ctl_addr=198.18.100.1
    [[ $g == b ]] && self=198.18.0.2 ctl_addr=198.18.100.5
    cat >"$E2E_DIR/gw-$g.conf" <<CONF
node_name: "gw-$g"
$(agent_tls "gw-$g" "$self")
controller: "$ctl_addr:50051"
addresses: "$self"
xfrm {}
CONF
  done
  ! grep -q '^spd' "$E2E_DIR/gw-a.conf" "$E2E_DIR/gw-b.conf" || fail "$CASE: an agent config holds spd rules"
  # Routes as in the cases above (gateway): the remote site via the peer.
  gateway a gw-a xfrm 198.18.20.0/24 198.18.0.2
  gateway b gw-b xfrm 198.18.10.0/24 198.18.0.1
  # site_policies SIDE WANT: out, in and fwd for SIDE's site pair are all
  # WANT: "esp" (a required ESP tunnel template between the gateways) or
  # "block" (action block, no tunnel template toward the peer: the agent
  # tags a DISCARD policy with a transport template carrying its reqid, for
  # ownership only; the kernel never applies a blocked policy's template).
  site_policies() {
    local side=$1 want=$2 lo=198.18.10.0/24 re=198.18.20.0/24 me=198.18.0.1 peer=198.18.0.2 d p
    [[ $side == b ]] && lo=198.18.20.0/24 re=198.18.10.0/24 me=198.18.0.2 peer=198.18.0.1
    for d in out in fwd; do
      if [[ $d == out ]]; then
        p=$(nsx "$side" ip xfrm policy list src "$lo" dst "$re" dir "$d")
      else
        p=$(nsx "$side" ip xfrm policy list src "$re" dst "$lo" dir "$d")
      fi
      [[ -n $p ]] || return 1
      if [[ $want == esp ]]; then
        grep -q 'action block' <<<"$p" && return 1
        if [[ $d == out ]]; then grep -q "tmpl src $me dst $peer" <<<"$p" || return 1
        else grep -q "tmpl src $peer dst $me" <<<"$p" || return 1; fi
        grep -q 'proto esp reqid [0-9]* mode tunnel' <<<"$p" || return 1
      else
        grep -q 'action block' <<<"$p" || return 1
        grep -qE 'mode tunnel|tmpl src (198.18.0.1 dst 198.18.0.2|198.18.0.2 dst 198.18.0.1)' <<<"$p" &&
          return 1
      fi
    done
    return 0
  }
  # our_states SIDE: how many of SIDE's SAs carry a reqid in the agents'
  # default band [0x1e50000, 0x1e5ffff].
  our_states() {
    nsx "$1" ip xfrm state | awk '{for (i = 1; i < NF; i++) if ($i == "reqid") {
      r = $(i + 1) + 0; if (r >= 31784960 && r <= 31850495) n++ }} END {print n + 0}'
  }
  no_states() { (($(our_states "$1") == 0)); }
  spd_push_diag() {
    local s
    for s in a b; do
      echo "--- $s: policies, states, xfrm_stat, routes"
      nsx "$s" ip -s xfrm policy | grep -vE 'lifetime|limit|expire|add 20' || true
      nsx "$s" ip -s xfrm state | sed 's/0x[0-9a-f]\{16,\}/<key>/g' || true
      nsx "$s" awk '$2 != 0' /proc/net/xfrm_stat || true
      nsx "$s" ip route || true
    done
  }
  local side
  for side in a b; do
    wait_for 10 site_policies "$side" esp ||
      { nsx "$side" ip xfrm policy; fail "$CASE: $side lacks the pushed ESP policies (out/in/fwd)"; }
  done
  nsx a ip xfrm policy list src 198.18.10.0/24 dst 198.18.20.0/24 | grep -E '^src|dir|tmpl|proto' || true
  if ! nsx ha ping -c 1 -W 10 198.18.20.2 >"$E2E_DIR/first-$CASE.log"; then
    spd_push_diag
    pings ha 5 198.18.20.2 -i 0.2 && say "$CASE: later pings pass"
    spd_push_diag
    fail "$CASE: the first packet was lost"
  fi
  pings ha 10 198.18.20.2 -i 0.1 || fail "$CASE: a -> b"
  pings hb 10 198.18.10.2 -i 0.1 || fail "$CASE: b -> a"
  for side in a b; do
    (($(our_states "$side") >= 2)) || fail "$CASE: no kernel ESP states on $side"
    grep -qE '^\s+[1-9][0-9]*\(bytes\)' <<<"$(nsx "$side" ip -s xfrm state)" ||
      fail "$CASE: $side's ESP states counted no bytes"
  done

  say "$CASE: policy delete: block policies, no SAs, no traffic"
  local t0
  t0=$(date +%s.%N)
  ctl policy delete gw-a-gw-b >/dev/null || fail "policy delete"
  for side in a b; do
    wait_for 3 site_policies "$side" block ||
      { nsx "$side" ip xfrm policy; fail "$CASE: $side's site pair is not blocked 3 s after the delete"; }
    wait_for 3 no_states "$side" ||
      { nsx "$side" ip xfrm state | grep -E '^src|reqid'; fail "$CASE: $side kept its SAs after the delete"; }
  done
  say "$CASE: blocked and SAs gone $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.1f", t1 - t0}') s after the delete"
  nsx a ip xfrm policy list src 198.18.10.0/24 dst 198.18.20.0/24 | grep -E '^src|dir|tmpl|proto' || true
  local got
  got=$(nsx ha ping -n -c 3 -i 0.2 -W 1 198.18.20.2 2>&1 | grep -c 'bytes from' || true)
  ((got == 0)) || fail "$CASE: $got replies came through after the policy was deleted"

  say "$CASE: policy add again: ESP policies and traffic are back"
  ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel --encryption aes-gcm-16 \
    >/dev/null || fail "policy add (again)"
  for side in a b; do
    wait_for 5 site_policies "$side" esp ||
      { nsx "$side" ip xfrm policy; fail "$CASE: $side's ESP policies did not come back"; }
  done
  nsx ha ping -c 1 -W 10 198.18.20.2 >/dev/null || fail "$CASE: the first packet after the re-add was lost"
  pings ha 10 198.18.20.2 -i 0.1 || fail "$CASE: a -> b after the re-add"
  pings hb 10 198.18.10.2 -i 0.1 || fail "$CASE: b -> a after the re-add"
  for side in a b; do
    (($(our_states "$side") >= 2)) || fail "$CASE: no kernel ESP states on $side after the re-add"
  done
  for pid in "${PIDS_OF_CASE[@]}"; do stop_pid "$pid" TERM; done
  for side in a b; do
    [[ -z $(nsx "$side" ip xfrm policy) ]] || fail "$CASE: $side kept XFRM policies after its agent exited"
    [[ -z $(nsx "$side" ip xfrm state) ]] || fail "$CASE: $side kept XFRM states after its agent exited"
  done
  say "case $CASE: PASS"
}
xfrm_spd_push_case
)
rc=$?
result "e2e: kernel ESP both ends, XFRM <-> engine interop (GCM, CBC+HMAC-SHA-256), IPv6 over IPv4, SPD push" "$rc"

echo "IKELESS-VM-RESULT: $passed passed, $failed failed"
