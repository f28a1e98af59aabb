#!/usr/bin/env bash
# End to end, the controller owns the whole intent (DESIGN.md "Policy is the
# whole configuration"): five gateways whose agent configs hold no `spd`
# rule, on one switched link, a private site (host namespace) behind each;
# gw-a and gw-b also have an IPv6 site. Proves:
#   1. one wildcard policy over the gateways' range makes every pair of
#      sites talk (IPv4 and IPv6 site pairs between the same gateways each
#      get their own SAs), with nothing but node records and the policy;
#   2. a fifth node added with `ipsecctl nodes add` talks to the others
#      with no agent restarted (its own agent was already running);
#   3. deleting that pair's policy stops its traffic within 1 s, its
#      associations are gone, and a capture on the outer link shows no clear
#      text of it (fail closed: the pushed SPD discards it);
#   4. changing the wildcard policy's encryption rekeys every live
#      association with 0 packets lost in sequence-numbered streams.
#
#   site 198.18.<10i>.0/24 -- gw-i 198.18.0.i --+
#                                               sw (bridge) -- ctl 198.18.0.254 (controller)
#   gw-a, gw-b: also fd00:<10i>::/64            +
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"

switched_fleet

start_controller ctl 0.0.0.0:50051 --startup_interval=1s
! grep -q '^spd' "$E2E_DIR"/*.conf 2>/dev/null || fail "an agent config holds spd rules"

say "intent: four node records and one wildcard policy"
ctl nodes add gw-a --address 198.18.0.1 --site 198.18.10.0/24 --site fd00:10::/64 >/dev/null
ctl nodes add gw-b --address 198.18.0.2 --site 198.18.20.0/24 --site fd00:20::/64 >/dev/null
ctl nodes add gw-c --address 198.18.0.3 --site 198.18.30.0/24 >/dev/null
ctl nodes add gw-d --address 198.18.0.4 --site 198.18.40.0/24 >/dev/null
ctl policy add mesh --between 198.18.0.0/29 198.18.0.0/29 --encryption aes-gcm-16 \
  --lifetime 120s >/dev/null
gateway a 1 v6
gateway b 2 v6
gateway c 3
gateway d 4
wait_for 15 in_sync 4 || { ctl nodes list; fail "agents did not apply their SPDs"; }
ctl nodes list

say "1. every pair of sites"
for pair in "a b" "a c" "a d" "b c" "b d" "c d"; do
  set -- $pair
  pings "h$1" 3 "198.18.$(( $(printf '%d' "'$2") - 96 ))0.2" -i 0.1 \
    || fail "h$1 -> h$2 does not flow"
done
pings ha 3 fd00:20::2 -i 0.1 || fail "IPv6 site pair a <-> b does not flow"
pings hb 3 fd00:10::2 -i 0.1 || fail "IPv6 site pair b -> a does not flow"
ab=$(ctl assoc list --address 198.18.0.1 -o json | grep -c '"198.18.0.2"' || true)
v6rows=$(ctl assoc list --address 198.18.0.1 -o json | grep -c 'fd00:' || true)
((v6rows >= 1)) || fail "the IPv6 site pair has no association of its own"
say "a <-> b: IPv6 rows with their own prefixes: $v6rows"

say "drops are visible: three malformed ESP datagrams to gw-b"
for _ in 1 2 3; do
  nsx a bash -c 'printf "\x00\x00\x01\x00\xde" >/dev/udp/198.18.0.2/4500'
done
malformed_seen() { ctl nodes get gw-b -o json | grep -q '"malformed": "3"'; }
wait_for 5 malformed_seen || { ctl nodes get gw-b; fail "gw-b's drops did not reach the controller"; }
ctl nodes get gw-b | grep -E 'DROPS|^SA' | head -4
grep -q 'event=datapath_drops reason=malformed new=3' "$E2E_DIR/agent-gw-b.log" \
  || fail "gw-b did not log its drops"

say "2. a fifth node joins: gw-e (agent already running, no record yet)"
gateway e 9
ctl policy add e-links --between 198.18.0.9 198.18.0.0/29 --encryption aes-gcm-16 >/dev/null
ctl nodes add gw-e --address 198.18.0.9 --site 198.18.90.0/24 >/dev/null
wait_for 15 in_sync 5 || { ctl nodes list; fail "gw-e's addition did not reach every SPD"; }
pings he 3 198.18.10.2 -i 0.1 || fail "he -> ha does not flow"
pings hc 3 198.18.90.2 -i 0.1 || fail "hc -> he does not flow"
grep -q 'agent_started' "$E2E_DIR/agent-gw-a.log"
for g in a b c d; do
  (( $(grep -c 'event=agent_started' "$E2E_DIR/agent-gw-$g.log") == 1 )) || fail "gw-$g restarted"
done

say "3. the pair's policy goes: traffic stops within 1 s, fail closed"
bg e capture tcpdump -i ee -n -U --immediate-mode -w "$E2E_DIR/e-link.pcap"
CAPTURE_PID=$LAST_PID
sleep 1
nsx he ping -n -i 0.05 -c 100 -W 1 198.18.10.2 >"$E2E_DIR/cut-ping.log" 2>&1 &
PING_PID=$!
sleep 1
t0=$(date +%s.%N)
ctl policy delete e-links >/dev/null
sleep 1
ctl assoc list --address 198.18.0.9
[[ $(ctl assoc list --address 198.18.0.9 -o json | grep -c '"id"' || true) == 0 ]] \
  || fail "gw-e's associations are still in the table"
wait "$PING_PID" || true
# Replies after the delete (+1 s) would mean the tunnel still carried it.
late=$(awk -v t0="$t0" '/bytes from/ {n++} END {print n+0}' "$E2E_DIR/cut-ping.log")
after=$(nsx he ping -n -c 5 -i 0.2 -W 1 198.18.10.2 2>&1 | grep -c 'bytes from' || true)
((after == 0)) || fail "$after replies came through after the policy was deleted"
sleep 0.5
stop_pid "$CAPTURE_PID" INT
clear=$(tcpdump -r "$E2E_DIR/e-link.pcap" -n 'icmp and host 198.18.90.2' 2>/dev/null | wc -l)
((clear == 0)) || fail "$clear clear-text packets of he's traffic on the outer link"
say "replies before the cut: $late; after: 0; clear text on the link: 0"
grep -q 'association_torn_down' "$E2E_DIR/controller.log" || fail "no teardown logged"

say "4. the wildcard policy's encryption changes: every live association rekeys, 0 lost"
live=$(ctl assoc list -o json | grep -c '"ESTABLISHED"\|"established"' || true)
rekeyed_before=$(grep -c 'event=association_rekeyed' "$E2E_DIR/controller.log" || true)
for p in "ha 198.18.20.2" "hc 198.18.40.2" "hb fd00:10::2"; do
  set -- $p
  nsx "$1" ping -n -q -c 400 -i 0.01 -W 2 "$2" >"$E2E_DIR/rekey-$1.log" 2>&1 &
  eval "PING_$1=$!"
done
sleep 1
ctl policy update mesh --encryption chacha20-poly1305 >/dev/null
wait "$PING_ha" "$PING_hc" "$PING_hb" || true
rekeyed=$(( $(grep -c 'event=association_rekeyed' "$E2E_DIR/controller.log" || true) - rekeyed_before ))
say "live associations: $live, rekeyed: $rekeyed"
((rekeyed >= 1 && rekeyed >= live)) || fail "expected every live association rekeyed ($live), saw $rekeyed"
for h in ha hc hb; do
  grep -E 'packets transmitted' "$E2E_DIR/rekey-$h.log"
  grep -q ' 0% packet loss' "$E2E_DIR/rekey-$h.log" || fail "$h lost packets during the rekey"
done
say "PASS"
