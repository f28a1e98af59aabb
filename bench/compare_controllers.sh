#!/bin/bash
# Interleaved A/B of controller builds or flags: per round and variant,
# bench/setup_latency then bench/setup_rate, one summary line each. Used for
# the before/after tables of BENCHMARKS.md (issue #16). Run after
# `bazel build -c opt //bench/... //controller:ikeless-controller`, with
# nothing else busy.
#
#   bench/compare_controllers.sh ROUNDS KS "LABEL|CONTROLLER_BIN|FLAGS" ...
#   e.g. bench/compare_controllers.sh 3 10,100,1000 "before|/tmp/old/ikeless-controller|" "after||"
# CONTROLLER_BIN empty: the one built next to the benchmarks. FLAGS: extra
# controller flags, comma-separated.
set -euo pipefail
if (( $# < 3 )); then
  echo "usage: $0 ROUNDS KS 'LABEL|CONTROLLER_BIN|FLAGS' ..." >&2
  exit 2
fi
cd "$(dirname "$0")/.."
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
[[ -x $bin/bench/setup_rate ]] || { echo "$0: build -c opt //bench/... first" >&2; exit 1; }
rounds=$1 ks=$2
shift 2
for r in $(seq "$rounds"); do
  for v in "$@"; do
    IFS='|' read -r label cbin flags <<<"$v"
    args=()
    [[ -n $cbin ]] && args+=("--controller_bin=$cbin")
    [[ -n $flags ]] && args+=("--controller_flags=$flags")
    lat=$("$bin/bench/setup_latency" "${args[@]}" 2>&1 | awk '/^all/ {print $4, $6, $7}')
    echo "$label round=$r latency p50/p99/max µs: $lat"
    "$bin/bench/setup_rate" --pairs="$ks" "${args[@]}" 2>&1 |
      awk -v l="$label" -v r="$r" '/^[0-9]+ / {print l, "round=" r, "K=" $1, "setups/s=" $3, "ctl_us/setup=" $4, "ctl_cores=" $5, "commits/setup=" $11}'
  done
done
