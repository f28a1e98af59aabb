# shellcheck shell=bash
# Sourced by bench/e2e_throughput.sh and bench/strongswan.sh: the binaries,
# our two gateways on the in-process ESP engine, iperf3. Needs
# tests/e2e/lib.sh (namespaces, PIDs and cleanup) sourced first.

# e2e_binaries: builds (unless IKELESS_BENCH_BIN names a bazel-bin that
# bench/run already built with -c opt) and sets the *_BIN variables.
e2e_binaries() {
  local bin=${IKELESS_BENCH_BIN:-}
  if [[ -z $bin ]]; then
    bazel build -c opt //controller:ikeless-controller //tools/ipsecctl //agent:ikeless-agent \
      //tools/ikeless-ca 2>&1 | grep -vE '^(INFO|Loading|Analyzing)' || true
    # Not the bazel-bin symlink: a concurrent build in another configuration
    # may have repointed it.
    bin=$(bazel info -c opt bazel-bin 2>/dev/null)
  fi
  CONTROLLER_BIN=$bin/controller/ikeless-controller
  IPSECCTL_BIN=$bin/tools/ipsecctl/ipsecctl
  AGENT_BIN=$bin/agent/ikeless-agent
  CA_BIN=$bin/tools/ikeless-ca/ikeless-ca
  local b
  for b in "$CONTROLLER_BIN" "$IPSECCTL_BIN" "$AGENT_BIN" "$CA_BIN"; do
    [[ -x $b ]] || fail "$b was not built (bazel build -c opt failed?)"
  done
}

# engine_up: after two_sites, the controller (mutual TLS) in ctl, a tunnel
# policy AES-GCM-16/128 between the gateways, an agent on each gateway with
# its TUN device and the route to the other site. Sets ENGINE_FIRST_PING_MS:
# the round trip of the very first ping from ha to hb, which includes the
# whole SA setup (held packet, both SaRequests, both installs).
engine_up() {
  e2e_pki "$CA_BIN"
  start_controller ctl 0.0.0.0:50051
  nsx ctl "$IPSECCTL_BIN" --controller 127.0.0.1:50051 policy add gw --between 198.18.0.1 198.18.0.2 \
    --mode tunnel --encryption aes-gcm-16 --lifetime 1h >/dev/null
  ENGINE_AGENT_PIDS=()
  _engine_gateway a gw-a 198.18.0.1 198.18.0.2 198.18.10.0/24 198.18.20.0/24 198.18.100.1
  _engine_gateway b gw-b 198.18.0.2 198.18.0.1 198.18.20.0/24 198.18.10.0/24 198.18.100.5
  local out
  out=$(nsx ha ping -n -c 1 -W 5 198.18.20.2 2>&1) || fail "no answer to the first ping through the engine"
  ENGINE_FIRST_PING_MS=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<<"$out")
  pings ha 3 198.18.20.2 -i 0.2 || fail "no traffic through the tunnel"
}

_engine_gateway() {  # NS NAME SELF PEER LOCAL_NET REMOTE_NET CONTROLLER
  cat >"$E2E_DIR/$2.conf" <<CONF
node_name: "$2"
$(agent_tls "$2" "$3")
controller: "$7:50051"
addresses: "$3"
esp { tun_name: "ikl0" }
spd { name: "site" local: "$5" remote: "$6" action: PROTECT setup_peer: "$4" }
CONF
  start_agent "$1" "$2" "$E2E_DIR/$2.conf"
  ENGINE_AGENT_PIDS+=("$AGENT_PID")
  nsx "$1" ip route replace "$6" dev ikl0
}

# engine_down: stops both agents; their TUN devices, and the routes over
# them, go with them, so the gateways are plain again.
engine_down() {
  local pid
  for pid in "${ENGINE_AGENT_PIDS[@]}"; do stop_pid "$pid"; done
  ENGINE_AGENT_PIDS=()
  for g in a b; do
    wait_for 5 bash -c "! ip netns exec $E2E_ID-$g ip link show ikl0" ||
      fail "ikl0 is still there in $g after its agent stopped"
  done
}

# iperf_rate NS SERVER [iperf3 options]: one stream for $E2E_SECONDS s,
# prints the receiver's Mbit/s.
iperf_rate() {
  nsx "$1" iperf3 -c "$2" -t "${E2E_SECONDS:-10}" -J "${@:3}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["end"]; s=e.get("sum_received") or e["sum"]; print(round(s["bits_per_second"]/1e6))'
}

# ratio A B: A/B to 3 significant digits, "-" if either is missing.
ratio() {
  python3 -c 'import sys
try: print(f"{float(sys.argv[1])/float(sys.argv[2]):.3g}")
except (ValueError, ZeroDivisionError): print("-")' "$1" "$2"
}
