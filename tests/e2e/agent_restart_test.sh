#!/usr/bin/env bash
# End to end, issue #12 point 2: a crash-looping agent must not lock its
# pair out. Twenty times: gw-a's agent is killed with SIGKILL (no goodbye,
# its SAs gone with its process) and started again; traffic from ha to hb
# must come back each time, and the pair must never be refused with
# RESOURCE_EXHAUSTED. The SA lifetime (1 h) outlives the whole run, so no
# row expires on its own: before reconciliation on Hello the rows of dead
# agent processes stayed, counted against the 16-row cap, and the 17th
# restart's setup was refused.
#
# Also shown: the restarted agent's Hello retires its predecessor's rows
# (controller log `agent_reconciled ... retired=`), the table stays small,
# `ipsecctl assoc delete` clears a row on both gateways (traffic then sets
# up a new one), and after the controller was away for 20 s the agents are
# back soon after its return (the time is printed, not asserted) and
# their reports, which name every SA in use, retire nothing.
#
#   ha (198.18.10.2) -- A (198.18.0.1) == B (198.18.0.2) -- hb (198.18.20.2)
#                        \ 198.18.100.2    198.18.100.6 /
#                         ctl 198.18.100.1 / 198.18.100.5 (controller)
source "$(dirname "$0")/lib.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"
CYCLES=${AGENT_RESTART_CYCLES:-20}

two_sites
rows() { ctl assoc list -o json | grep -c '"policyName"\|"policy_name"' || true; }
now_ms() { date +%s%3N; }

start_controller ctl 0.0.0.0:50051 --startup_interval=1s
ctl policy add gw-a-gw-b --between 198.18.0.1 198.18.0.2 --mode tunnel \
  --encryption aes-gcm-16 --lifetime 1h --soft-lifetime 50m >/dev/null

site_agent_configs

start_gateway a gw-a 198.18.20.0/24
A_PID=$AGENT_PID
start_gateway b gw-b 198.18.10.0/24
wait_for 10 agents_connected 2 || fail "agents did not connect"
pings ha 5 198.18.20.2 -i 0.05 || fail "traffic does not flow"

# ping_back DEADLINE_S: one echo a time until one is answered.
ping_back() {
  local end=$((SECONDS + $1))
  until nsx ha ping -n -c 1 -W 1 198.18.20.2 >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.02  # an unreachable route fails at once: no busy loop
  done
}

say "$CYCLES kill -9 / restart cycles of gw-a's agent"
times=()
for cycle in $(seq "$CYCLES"); do
  stop_pid "$A_PID" KILL
  t0=$(now_ms)
  start_gateway a gw-a 198.18.20.0/24
  A_PID=$AGENT_PID
  ping_back 20 || fail "cycle $cycle: no traffic 20 s after the restart ($(rows) rows)"
  t1=$(now_ms)
  times+=($((t1 - t0)))
  pings ha 3 198.18.20.2 -i 0.05 || fail "cycle $cycle: traffic unstable after the restart"
  say "cycle $cycle: traffic back after $((t1 - t0)) ms, $(rows) rows"
done

refused=$( (grep -h 'RESOURCE_EXHAUSTED' "$E2E_DIR/controller.log" "$E2E_DIR"/agent-gw-*.log || true) | wc -l)
busy=$( (grep -h 'setup_controller_busy' "$E2E_DIR"/agent-gw-*.log || true) | wc -l)
((refused == 0 && busy == 0)) || fail "the pair was refused: $refused RESOURCE_EXHAUSTED lines, $busy busy setups"
retired=$(awk '/event=agent_reconciled node=gw-a / {
    for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == "retired") s += kv[2]
  } END { print s + 0 }' "$E2E_DIR/controller.log")
((retired >= CYCLES)) || fail "expected the predecessors' rows retired on Hello, saw $retired"
left=$(rows)
((left <= 4)) || fail "$left rows left for one pair after $CYCLES restarts"
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(sed -n "$(((${#times[@]} + 1) / 2))p" <<<"$sorted")
say "figures: cycles=$CYCLES traffic_back_ms min=$(head -1 <<<"$sorted") median=$median" \
  "max=$(tail -1 <<<"$sorted") retired=$retired rows_left=$left"

# The operator's delete: both gateways drop the SAs, the next packet sets
# up a new row.
say "assoc delete"
id=$(ctl assoc list -o json | grep -o '"id": "[0-9]*"' | head -1 | grep -o '[0-9]*')
[[ -n $id ]] || fail "no association to delete"
out=$(ctl assoc delete "$id") || fail "assoc delete $id failed"
[[ $out == "deleted association $id (198.18."*"); both nodes told to remove its SAs" ]] \
  || fail "unexpected assoc delete output: $out"
if ctl assoc delete "$id" 2>"$E2E_DIR/delete-again.err"; then fail "deleting $id twice succeeded"; fi
grep -q "NOT_FOUND: association $id not found" "$E2E_DIR/delete-again.err" \
  || fail "unexpected error: $(cat "$E2E_DIR/delete-again.err")"
ping_back 10 || fail "no traffic after assoc delete"
ctl assoc list -o json | grep -q "\"id\": \"$id\"" && fail "row $id came back"

# The controller away long enough for the agents' backoff to reach its
# cap: they find it again within about a second of its return, and their
# reports (every SA in use) retire nothing.
say "controller away ${AWAY_S:=20} s"
before=$(rows)
stop_pid "$CONTROLLER_PID" TERM
pings ha 3 198.18.20.2 -i 0.05 || fail "traffic stopped with the controller"
sleep "$AWAY_S"
t0=$(now_ms)
start_controller ctl 0.0.0.0:50051 --startup_interval=1s
wait_for 15 agents_connected 2 || fail "agents did not reconnect"
t1=$(now_ms)
say "figures: agents back $((t1 - t0)) ms after the controller was started again"
pings ha 5 198.18.20.2 -i 0.05 || fail "no traffic after the controller's return"
after=$(rows)
((after == before)) || fail "the reconnect changed the table: $before rows before, $after after"
say "PASS"
