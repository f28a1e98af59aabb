#!/usr/bin/env bash
# End to end, transport mode: two hosts on one link talk to each other
# through the in-process ESP engine; the controller sits in a third
# namespace. The engine's own ESP-in-UDP packets carry a firewall mark and
# bypass the TUN route (policy routing), so they do not loop back into it.
#
#   A 198.18.0.1 ==== B 198.18.0.2        (ESP in UDP 4500 on this link)
#    \ 198.18.100.2    198.18.100.6 /
#     ctl 198.18.100.1 / 198.18.100.5
source "$(dirname "$0")/lib.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"

for n in ctl a b; do ns $n; done
link a 198.18.0.1/24 b 198.18.0.2/24
link ctl 198.18.100.1/30 a 198.18.100.2/30
link ctl 198.18.100.5/30 b 198.18.100.6/30

start_controller ctl 0.0.0.0:50051 --startup_interval=1s
ctl policy add host-a-host-b --between 198.18.0.1 198.18.0.2 --mode transport \
  --encryption aes-cbc --integrity hmac-sha2-256-128 >/dev/null

start_host() {  # NS NAME SELF PEER CONTROLLER
  cat >"$E2E_DIR/$2.conf" <<CONF
node_name: "$2"
$(agent_tls "$2" "$3")
controller: "$5:50051"
addresses: "$3"
esp { tun_name: "ikl0" socket_mark: 485 }
spd { name: "peer" local: "$3" remote: "$4" action: PROTECT setup_peer: "$4" }
CONF
  start_agent "$1" "$2" "$E2E_DIR/$2.conf"
  # Unmarked traffic to the peer goes into the TUN; the engine's marked
  # packets (mark 485 = 0x1e5) use the main table and leave on the link.
  nsx "$1" ip route replace "$4/32" dev ikl0 src "$3" table 100
  nsx "$1" ip rule add not fwmark 485 table 100 pref 100 2>/dev/null || true
}
start_host a host-a 198.18.0.1 198.18.0.2 198.18.100.1
start_host b host-b 198.18.0.2 198.18.0.1 198.18.100.5

bg a capture tcpdump -i vb -n -U --immediate-mode -w "$E2E_DIR/link.pcap"
CAPTURE_PID=$LAST_PID
sleep 1
say "first packet"
nsx a ping -c 1 -W 5 198.18.0.2 >/dev/null || fail "the first packet was lost"
pings a 20 198.18.0.2 -i 0.05 || fail "traffic does not flow a -> b"
pings b 20 198.18.0.1 -i 0.05 || fail "traffic does not flow b -> a"
sleep 0.5
stop_pid "$CAPTURE_PID" INT
esp=$(tcpdump -r "$E2E_DIR/link.pcap" -n "udp port 4500" 2>/dev/null | wc -l)
plain=$(tcpdump -r "$E2E_DIR/link.pcap" -n 'icmp' 2>/dev/null | wc -l)
((esp >= 82)) || fail "expected the pings as ESP on the link, saw $esp ESP packets"
((plain == 0)) || fail "$plain plain ICMP packets crossed the link"
ctl assoc list
say "PASS"
