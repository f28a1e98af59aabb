#!/usr/bin/env bash
# End to end, tunnel mode: two gateways in their own namespaces with a
# private network behind each, the real controller in a third, two real
# agent processes on the in-process ESP engine. Proves:
#   - the first packet of a flow arrives (held, then released: FIG. 18 S35/S36);
#   - only ESP crosses the link between the gateways (tcpdump);
#   - a restarted agent re-requests, survives CONFLICT, traffic recovers;
#   - rekeys under continuous traffic lose no packet (make-before-break);
#   - with the controller stopped, installed SAs keep carrying traffic and
#     the agents reconnect when it returns.
#
#   ha (198.18.10.2) -- A (198.18.10.1 | 198.18.0.1) == B (198.18.0.2 | 198.18.20.1) -- hb (198.18.20.2)
#                        \ 198.18.100.2            198.18.100.6 /
#                         ctl 198.18.100.1 / 198.18.100.5 (controller)
source "$(dirname "$0")/lib.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"

two_sites

start_controller ctl 0.0.0.0:50051 --startup_interval=1s
ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel \
  --encryption aes-gcm-16 --lifetime 10s --soft-lifetime 6s >/dev/null

site_agent_configs

start_gateway a gw-a 198.18.20.0/24
A_PID=$AGENT_PID
start_gateway b gw-b 198.18.10.0/24
wait_for 10 agents_connected 2 || fail "agents did not connect"

# 1. The very first packet: one ping, no retry, must be answered.
bg a capture tcpdump -i vb -n -U --immediate-mode -w "$E2E_DIR/link.pcap"
CAPTURE_PID=$LAST_PID
sleep 1
say "first packet"
nsx ha ping -c 1 -W 5 198.18.20.2 >"$E2E_DIR/first-ping.log" || fail "the first packet was lost"
pings ha 20 198.18.20.2 -i 0.05 || fail "traffic does not flow"
pings hb 5 198.18.10.2 -i 0.05 || fail "traffic does not flow from b"
sleep 0.5
stop_pid "$CAPTURE_PID" INT
say "capture: $(tcpdump -r "$E2E_DIR/link.pcap" -n 2>/dev/null | wc -l) packets on the gateway link"
esp=$(tcpdump -r "$E2E_DIR/link.pcap" -n 'udp port 4500' 2>/dev/null | wc -l)
plain=$(tcpdump -r "$E2E_DIR/link.pcap" -n 'not udp port 4500 and not arp and not ip6' 2>/dev/null | wc -l)
((esp >= 52)) || fail "expected the pings as ESP on the link, saw $esp ESP packets"
((plain == 0)) || fail "$plain non-ESP packets crossed the gateway link"
ctl assoc list

# 2. Agent restart within the first SA's lifetime: the fresh process's
#    Hello reports no SA, so the controller retires its predecessor's row
#    and tells gw-b to drop its SAs (issue #12 reconciliation); the new
#    setup, id 1 again, meets no CONFLICT; traffic recovers.
say "agent restart"
stop_pid "$A_PID" TERM
start_gateway a gw-a 198.18.20.0/24
nsx ha ping -c 1 -W 8 198.18.20.2 >/dev/null || fail "no traffic after agent restart"
pings ha 10 198.18.20.2 -i 0.05 || fail "traffic unstable after restart"
grep -q 'event=agent_reconciled node=gw-a .*retired=[1-9]' "$E2E_DIR/controller.log" \
  || fail "the restarted agent's predecessor's row was not retired"

# 3. Rekeys under continuous traffic: 1,500 pings 10 ms apart, soft
#    lifetime 6 s (jittered): at least 3 rekeys, no packet lost.
say "rekey under traffic"
before=$(grep -c 'event=association_established' "$E2E_DIR/controller.log" || true)
nsx ha ping -q -c 1500 -i 0.01 -W 1 198.18.20.2 >"$E2E_DIR/rekey-ping.log" || true
after=$(grep -c 'event=association_established' "$E2E_DIR/controller.log" || true)
rekeys=$((after - before))
loss=$(grep -oE '[0-9.]+% packet loss' "$E2E_DIR/rekey-ping.log" || echo "?")
say "rekeys=$rekeys $(grep -E 'packets transmitted' "$E2E_DIR/rekey-ping.log")"
((rekeys >= 3)) || fail "expected at least 3 rekeys during the stream, saw $rekeys"
grep -q ' 0% packet loss' "$E2E_DIR/rekey-ping.log" || fail "packets lost during rekey: $loss"

# 4. Controller away: installed SAs keep working; agents come back.
say "controller stopped"
stop_pid "$CONTROLLER_PID" TERM
pings ha 10 198.18.20.2 -i 0.05 || fail "traffic stopped with the controller"
start_controller ctl 0.0.0.0:50051 --startup_interval=1s
wait_for 15 agents_connected 2 || fail "agents did not reconnect to the restarted controller"
pings ha 5 198.18.20.2 -i 0.05 || fail "no traffic after controller restart"
say "PASS"
