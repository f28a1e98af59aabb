#!/usr/bin/env bash
# End-to-end throughput through the in-process ESP engine: two gateways in
# network namespaces (tunnel mode, mutual TLS to the controller), iperf3
# TCP and UDP from the private network behind one to the private network
# behind the other, beside the plain link between the gateways without
# IPsec. Root only. Usage: bench/e2e_throughput.sh [SECONDS]
# Namespaces, processes and addresses as in tests/e2e (198.18.0.0/15 only);
# everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
bazel build -c opt //controller:ikeless-controller //tools/ipsecctl //agent:ikeless-agent //tools/ikeless-ca 2>&1 |
  grep -vE '^(INFO|Loading|Analyzing)' || true
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
source tests/e2e/lib.sh
CONTROLLER_BIN=$bin/controller/ikeless-controller IPSECCTL_BIN=$bin/tools/ipsecctl/ipsecctl
AGENT_BIN=$bin/agent/ikeless-agent
require_root
e2e_pki "$bin/tools/ikeless-ca/ikeless-ca"

two_sites
start_controller ctl 0.0.0.0:50051
nsx ctl "$IPSECCTL_BIN" --controller 127.0.0.1:50051 policy add gw --between 198.18.0.1 198.18.0.2 \
  --mode tunnel --encryption aes-gcm-16 --lifetime 1h >/dev/null
gateway() {  # NS NAME SELF PEER LOCAL_NET REMOTE_NET CONTROLLER
  cat >"$E2E_DIR/$2.conf" <<CONF
node_name: "$2"
$(agent_tls "$2" "$3")
controller: "$7:50051"
addresses: "$3"
esp { tun_name: "ikl0" }
spd { name: "site" local: "$5" remote: "$6" action: PROTECT setup_peer: "$4" }
CONF
  start_agent "$1" "$2" "$E2E_DIR/$2.conf"
  nsx "$1" ip route replace "$6" dev ikl0
}
gateway a gw-a 198.18.0.1 198.18.0.2 198.18.10.0/24 198.18.20.0/24 198.18.100.1
gateway b gw-b 198.18.0.2 198.18.0.1 198.18.20.0/24 198.18.10.0/24 198.18.100.5
pings ha 3 198.18.20.2 -i 0.2 || fail "no traffic through the tunnel"

bg hb iperf-esp iperf3 -s -B 198.18.20.2
bg b iperf-plain iperf3 -s -B 198.18.0.2
sleep 1
rate() {  # NS SERVER [iperf3 options] -> Mbit/s of the receiver
  nsx "$1" iperf3 -c "$2" -t "$seconds" -J "${@:3}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["end"]; s=e.get("sum_received") or e["sum"]; print(round(s["bits_per_second"]/1e6))'
}
esp_tcp=$(rate ha 198.18.20.2)
esp_udp=$(rate ha 198.18.20.2 -u -b 0 -l 1300)
plain_tcp=$(rate a 198.18.0.2)
cat <<TXT

e2e_throughput: ${seconds} s per run, iperf3, one stream; ESP engine: AES-GCM-16/128, tunnel mode, ESP in UDP
path                                   TCP Mbit/s   UDP (1300 B) Mbit/s
----------------------------------------------------------------------
private net -> private net via ESP     $esp_tcp          $esp_udp
plain veth between the gateways        $plain_tcp          -
ratio ESP / plain (TCP)                $(python3 -c "print(f'{$esp_tcp/$plain_tcp:.3f}')")
TXT
