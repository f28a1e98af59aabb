#!/usr/bin/env bash
# End-to-end throughput through the in-process ESP engine: two gateways in
# network namespaces (tunnel mode, mutual TLS to the controller), iperf3
# TCP and UDP from the private network behind one to the private network
# behind the other, beside the plain link between the gateways without
# IPsec. Root only. Usage: bench/e2e_throughput.sh [SECONDS]
# bench/strongswan.sh measures the same and strongSwan beside it.
# Namespaces, processes and addresses as in tests/e2e (198.18.0.0/15 only);
# everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_SECONDS=${1:-10}
source tests/e2e/lib.sh
source bench/e2e_common.sh
require_root
e2e_binaries

two_sites
engine_up
bg hb iperf-esp iperf3 -s -B 198.18.20.2
bg b iperf-plain iperf3 -s -B 198.18.0.2
sleep 1
esp_tcp=$(iperf_rate ha 198.18.20.2)
esp_udp=$(iperf_rate ha 198.18.20.2 -u -b 0 -l 1300)
plain_tcp=$(iperf_rate a 198.18.0.2)
cat <<TXT

e2e_throughput: ${E2E_SECONDS} s per run, iperf3, one stream; ESP engine: AES-GCM-16/128, tunnel mode, ESP in UDP
path                                   TCP Mbit/s   UDP (1300 B) Mbit/s
----------------------------------------------------------------------
private net -> private net via ESP     $esp_tcp          $esp_udp
plain veth between the gateways        $plain_tcp          -
ratio ESP / plain (TCP)                $(ratio "$esp_tcp" "$plain_tcp")
first ping through the engine, SA setup included: ${ENGINE_FIRST_PING_MS:-?} ms
TXT
