#!/usr/bin/env bash
# End to end, issue #12: the data plane outlives a long controller outage.
# Two gateways on the in-process ESP engine, a policy of 15 s hard and 8 s
# soft lifetime, agents asking for 8 successor keys (DECISIONS 33). The
# controller is killed for 45 s (3x the hard lifetime) while a ping stream
# (sequence-numbered, 20 a second) runs between the sites. Proves:
#   - no packet of the stream is lost;
#   - the SPIs on the wire change during the outage (fresh keys, switched
#     to locally at soft expiry), and no SPI is seen for longer than the
#     hard lifetime;
#   - when the controller returns the agents are back within seconds and
#     the next rekey goes through it again.
#
#   ha (198.18.10.2) -- A (198.18.0.1) == B (198.18.0.2) -- hb (198.18.20.2)
#                        ctl (controller) reachable from both
source "$(dirname "$0")/lib.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"

HARD=15 SOFT=8 OUTAGE=45
two_sites

start_controller ctl 0.0.0.0:50051 --startup_interval=1s
ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel \
  --encryption aes-gcm-16 --lifetime ${HARD}s --soft-lifetime ${SOFT}s >/dev/null

site_agent_configs "setup { successor_keys: 8 }"
start_gateway a gw-a 198.18.20.0/24
start_gateway b gw-b 198.18.10.0/24
wait_for 10 agents_connected 2 || fail "agents did not connect"
nsx ha ping -c 1 -W 5 198.18.20.2 >/dev/null || fail "no traffic before the outage"
pings ha 5 198.18.20.2 -i 0.05 || fail "traffic does not flow"

# The stream: 5 s before the outage, the outage, 10 s after.
count=$(( (5 + OUTAGE + 10) * 20 ))
say "stream of $count pings; controller killed for ${OUTAGE}s"
bg ha stream ping -n -c "$count" -i 0.05 -W 1 198.18.20.2
STREAM_PID=$LAST_PID
sleep 5
stop_pid "$CONTROLLER_PID" KILL
bg a capture tcpdump -i vb -n -tt -U --immediate-mode -w "$E2E_DIR/outage.pcap" 'udp port 4500'
CAPTURE_PID=$LAST_PID
sleep "$OUTAGE"
stop_pid "$CAPTURE_PID" INT
back=$(date +%s.%N)
start_controller ctl 0.0.0.0:50051 --startup_interval=1s
wait_for 15 agents_connected 2 || fail "agents did not reconnect to the restarted controller"
say "agents back $(awk -v a="$back" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the controller was started"
wait "$STREAM_PID" || true
E2E_PIDS=("${E2E_PIDS[@]/$STREAM_PID}")
summary=$(grep -E 'packets transmitted' "$E2E_DIR/stream.log" || echo "no summary")
say "stream: $summary"
grep -q " $count received, 0% packet loss" "$E2E_DIR/stream.log" \
  || fail "packets lost across the outage: $summary"

# SPIs seen from a to b during the outage, with the time each was first
# and last seen.
tcpdump -r "$E2E_DIR/outage.pcap" -n -tt 'src 198.18.0.1' 2>/dev/null \
  | sed -nE 's/^([0-9.]+) .*ESP\(spi=(0x[0-9a-f]+),.*/\1 \2/p' >"$E2E_DIR/spis.txt"
spis=$(awk '{print $2}' "$E2E_DIR/spis.txt" | sort -u | wc -l)
awk '{ if (!($2 in f)) f[$2] = $1; l[$2] = $1 } END { for (s in f) printf "%s %.1f\n", s, l[s] - f[s] }' \
  "$E2E_DIR/spis.txt" | sort -k2 -n >"$E2E_DIR/spi-spans.txt"
say "SPIs a->b during the outage: $spis; longest seen $(tail -n1 "$E2E_DIR/spi-spans.txt")"
((spis >= 4)) || fail "expected the SPI to change at least 3 times during the outage, saw $spis SPIs"
longest=$(tail -n1 "$E2E_DIR/spi-spans.txt" | awk '{print int($2)}')
((longest <= HARD)) || fail "an SPI was on the wire ${longest}s, longer than the hard lifetime"
grep -q 'event=sa_switched_to_successor' "$E2E_DIR/agent-gw-a.log" || fail "gw-a never switched keys"

# With the controller back, rekeys go through it again.
before=$(grep -c 'event=association_established' "$E2E_DIR/controller.log" || true)
wait_for $((SOFT + 5)) bash -c "(( \$(grep -c 'event=association_established' '$E2E_DIR/controller.log') > $before ))" \
  || fail "no rekey through the controller after it returned"
pings ha 20 198.18.20.2 -i 0.05 || fail "no traffic after the controller returned"
say "PASS"
