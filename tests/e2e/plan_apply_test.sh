#!/usr/bin/env bash
# End to end, the fleet managed from a file (`ipsecctl plan -f` / `apply -f`,
# issue "Declarative intent with a dry run"): three gateways on one switched
# link (fleet.sh), agents with no rules of their own. Proves:
#   1. `apply -f` of a fleet file builds the fleet from nothing: every site
#      pair talks;
#   2. `export` then `plan` of the exported file shows no changes;
#   3. a change (gw-c removed, the mesh policy's cipher changed) is planned,
#      and `apply --state` then tears down and rekeys exactly the live
#      associations the plan named; the pair that stays keeps talking; a
#      second apply reports no changes;
#   4. an apply after someone else changed the live state is refused;
#   5. bad files (syntax, unknown node, overlapping sites, a failing
#      assertion) change nothing and name the line.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet.sh"
CONTROLLER_BIN=$1 IPSECCTL_BIN=$2 AGENT_BIN=$3
require_root
e2e_pki "$4"

switched_fleet
start_controller ctl 0.0.0.0:50051 --startup_interval=1s
gateway a 1
gateway b 2
gateway c 3

# fleet CIPHER [with-c] [EXTRA...]: a fleet file on stdout.
fleet() {
  local cipher=$1 with_c=${2:-}
  cat <<YAML
nodes:
  - name: gw-a
    addresses: [198.18.0.1]
    sites: [198.18.10.0/24]
  - name: gw-b
    addresses: [198.18.0.2]
    sites: [198.18.20.0/24]
YAML
  [[ -n $with_c ]] && cat <<YAML
  - name: gw-c
    addresses: [198.18.0.3]
    sites: [198.18.30.0/24]
YAML
  cat <<YAML
policies:
  - name: mesh
    between: [198.18.0.0/29, 198.18.0.0/29]
    encryption: $cipher
    lifetime: 10m
assertions:
  - between: [gw-a, gw-b]
    expect: protected
    encryption: $cipher
YAML
}
# impacts FILE: "id action" per association in a plan's JSON, sorted.
impacts() {
  grep -oE '"(id|action)": "?[A-Z_0-9]+"?' "$1" | tr -d '"' | paste -d' ' - - | sort
}
# snapshot: the live intent, to show that a refused change changed nothing.
snapshot() { ctl export; }

say "1. apply a fleet file to an empty controller"
fleet aes-gcm-16 with-c >"$E2E_DIR/v1.yaml"
ctl apply -f "$E2E_DIR/v1.yaml" | tee "$E2E_DIR/apply1.txt"
grep -q '3 added' "$E2E_DIR/apply1.txt" || fail "apply did not add the three nodes"
wait_for 15 in_sync 3 || { ctl nodes list; fail "agents did not apply their SPDs"; }
pings ha 3 198.18.20.2 -i 0.1 || fail "ha -> hb does not flow"
pings ha 3 198.18.30.2 -i 0.1 || fail "ha -> hc does not flow"
pings hb 3 198.18.30.2 -i 0.1 || fail "hb -> hc does not flow"

say "2. export, then plan the exported file: no changes"
ctl export >"$E2E_DIR/exported.yaml"
cat "$E2E_DIR/exported.yaml"
ctl plan -f "$E2E_DIR/exported.yaml" | tee "$E2E_DIR/plan-export.txt"
grep -q '^No changes' "$E2E_DIR/plan-export.txt" || fail "plan of the exported file shows changes"

say "3. plan a change, apply exactly that plan"
fleet chacha20-poly1305 >"$E2E_DIR/v2.yaml"
ctl plan -f "$E2E_DIR/v2.yaml" | tee "$E2E_DIR/plan2.txt"
ctl plan -f "$E2E_DIR/v2.yaml" -o json >"$E2E_DIR/plan2.json"
state=$(grep -oE '"state": "[0-9a-f-]+"' "$E2E_DIR/plan2.json" | cut -d'"' -f4)
[[ -n $state ]] || fail "the plan has no state"
grep -q 'TEAR_DOWN' "$E2E_DIR/plan2.json" || fail "the plan tears nothing down"
grep -q 'REKEY' "$E2E_DIR/plan2.json" || fail "the plan rekeys nothing"
[[ $(snapshot) == "$(cat "$E2E_DIR/exported.yaml")" ]] || fail "plan changed the live intent"
ctl apply -f "$E2E_DIR/v2.yaml" --state "$state" -o json >"$E2E_DIR/apply2.json"
impacts "$E2E_DIR/plan2.json" >"$E2E_DIR/planned.txt"
impacts "$E2E_DIR/apply2.json" >"$E2E_DIR/done.txt"
say "planned: $(tr '\n' ';' <"$E2E_DIR/planned.txt")  done: $(tr '\n' ';' <"$E2E_DIR/done.txt")"
[[ -s $E2E_DIR/planned.txt ]] || fail "no associations in the plan"
cmp -s "$E2E_DIR/planned.txt" "$E2E_DIR/done.txt" || fail "apply did not do what plan showed"
grep -q '"applied": true' "$E2E_DIR/apply2.json" || fail "apply says nothing was applied"
wait_for 15 in_sync 2 || { ctl nodes list; fail "SPDs not applied after the change"; }
pings ha 3 198.18.20.2 -i 0.1 || fail "ha -> hb does not flow after the rekey"
ctl assoc list
ctl assoc list -o json | grep -q '198.18.0.3' && fail "gw-c's associations are still live"
ctl apply -f "$E2E_DIR/v2.yaml" | tee "$E2E_DIR/apply3.txt"
grep -q '^No changes' "$E2E_DIR/apply3.txt" || fail "a second apply changed something"

say "4. someone else changes the fleet between plan and apply"
fleet aes-gcm-16 >"$E2E_DIR/v3.yaml"
ctl plan -f "$E2E_DIR/v3.yaml" -o json >"$E2E_DIR/plan4.json"
state=$(grep -oE '"state": "[0-9a-f-]+"' "$E2E_DIR/plan4.json" | cut -d'"' -f4)
ctl nodes set gw-b --description "edited by hand" >/dev/null
before=$(snapshot)
if ctl apply -f "$E2E_DIR/v3.yaml" --state "$state" 2>"$E2E_DIR/stale.err"; then
  fail "a stale apply went through"
fi
cat "$E2E_DIR/stale.err"
grep -q 'ABORTED.*changed since the plan' "$E2E_DIR/stale.err" || fail "no reason for the refusal"
[[ $(snapshot) == "$before" ]] || fail "the refused apply changed something"

say "5. bad files change nothing and name the line"
# refused FILE PATTERN: plan and apply both fail with PATTERN, nothing changes.
refused() {
  local out
  for verb in plan apply; do
    if out=$(ctl "$verb" -f "$1" 2>&1); then fail "$verb of $(basename "$1") succeeded"; fi
    grep -qE "$2" <<<"$out" || { echo "$out"; fail "$verb: expected /$2/"; }
  done
  say "$(tail -1 <<<"$out")"
  [[ $(snapshot) == "$before" ]] || fail "$(basename "$1") changed something"
}
printf 'nodes: []\npolicies: [\n  - name: x\n' >"$E2E_DIR/syntax.yaml"
refused "$E2E_DIR/syntax.yaml" 'syntax.yaml:3: YAML syntax'
fleet aes-gcm-16 | sed 's/between: \[gw-a, gw-b\]/between: [gw-a, gw-x]/' >"$E2E_DIR/unknown.yaml"
refused "$E2E_DIR/unknown.yaml" "unknown.yaml:14: assertions\\[0\\]\\.b: unknown node 'gw-x'"
fleet aes-gcm-16 with-c | sed 's#198.18.30.0/24#198.18.16.0/20#' >"$E2E_DIR/overlap.yaml"
refused "$E2E_DIR/overlap.yaml" 'overlap.yaml:10: nodes\[2\] \(gw-c\): sites: 198.18.16.0/20 overlaps 198.18.20.0/24'
fleet aes-gcm-16 | sed 's/encryption: aes-gcm-16$/encryption: chacha20-poly1305/' \
  | awk '/^assertions/ {a=1} a && /encryption:/ {sub(/chacha20-poly1305/, "aes-gcm-16")} {print}' \
  >"$E2E_DIR/assert.yaml"
grep -q 'chacha20' "$E2E_DIR/assert.yaml" || fail "test bug: assert.yaml"
refused "$E2E_DIR/assert.yaml" 'assert.yaml:14: assertions\[0\]: does not hold: .*uses chacha20-poly1305'
say "PASS"
