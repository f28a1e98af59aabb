#!/usr/bin/env bash
# The ESP engine's seal+open throughput per algorithm and packet size on one
# core (//datapath/esp:esp_bench, -c opt), beside `openssl speed -evp` for
# the same AEADs at the same sizes (encrypt only: the crypto limit of this
# machine), as ratios. DESIGN target: AES-128-GCM at 1400 octets >= 50 %.
#
# Usage: bench/esp_speed.sh [--seconds S] [--sizes 64,256,512,1024,1400] [--out DIR]
#   --seconds S   per algorithm and size, for both (default 1)
#   --out DIR     also write esp_speed.tsv (MB/s per size) for bench/plot
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=1 sizes=64,256,512,1024,1400 out=""
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "bench/esp_speed.sh: unknown argument '$1' (see the header of the script)" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "bench/esp_speed.sh: openssl is missing (tools/setup installs it)" >&2; exit 1; }

bin=${IKELESS_BENCH_BIN:-}
if [[ -z $bin ]]; then
  bazel build -c opt //datapath/esp:esp_bench 2>&1 | grep -vE '^(INFO|Loading|Analyzing)' || true
  bin=$(bazel info -c opt bazel-bin 2>/dev/null)
fi
esp_bench=$bin/datapath/esp/esp_bench
[[ -x $esp_bench ]] || { echo "bench/esp_speed.sh: $esp_bench was not built" >&2; exit 1; }

# openssl_mbs CIPHER SIZE: MB/s (10^6 bytes) of `openssl speed -evp` (whole
# seconds only).
ossl_seconds=$(python3 -c "import math; print(max(1, math.ceil(float('$seconds'))))")
openssl_mbs() {
  openssl speed -evp "$1" -bytes "$2" -seconds "$ossl_seconds" 2>/dev/null |
    awk 'END { v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000 }'
}

percent() {  # A B: 100*A/B rounded, "-" if either is missing
  python3 -c 'import sys
try: print(round(100 * float(sys.argv[1]) / float(sys.argv[2])))
except (ValueError, ZeroDivisionError): print("-")' "$1" "$2"
}

tsv="size\taes-gcm-16/128\taes-gcm-16/256\tchacha20-poly1305\taes-cbc/128+hmac-sha2-256-128\topenssl aes-128-gcm\topenssl chacha20-poly1305\n"
printf 'esp_speed: one core, %s s per point; engine = seal+open of one IP packet of SIZE octets (MB/s of packets);\n' "$seconds"
printf 'openssl = `openssl speed -evp CIPHER -bytes SIZE -seconds %s` (encrypt only, %s)\n\n' "$ossl_seconds" "$(openssl version | cut -d' ' -f1-2)"
printf '%6s %12s %12s %12s %12s %12s %12s %8s %8s\n' size aes-gcm/128 aes-gcm/256 chacha-poly aes-cbc+sha2 "ossl gcm128" "ossl chacha" "gcm/ossl" "cha/ossl"
printf -- '-%.0s' {1..104}; echo
for size in ${sizes//,/ }; do
  declare -A mbs=()
  while read -r line; do
    # "aes-gcm-16/128    1400-octet packets: 1053849 seal+open/s, 1475.4 MB/s (...)"
    name=${line%% *}
    mbs[$name]=$(sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p' <<<"$line")
  done < <("$esp_bench" "$seconds" "$size")
  gcm=$(openssl_mbs aes-128-gcm "$size")
  chacha=$(openssl_mbs chacha20-poly1305 "$size")
  printf '%6s %12s %12s %12s %12s %12s %12s %7s%% %7s%%\n' "$size" "${mbs[aes-gcm-16/128]}" \
    "${mbs[aes-gcm-16/256]}" "${mbs[chacha20-poly1305]}" "${mbs[aes-cbc/128+hmac-sha2-256-128]}" \
    "$gcm" "$chacha" \
    "$(percent "${mbs[aes-gcm-16/128]}" "$gcm")" "$(percent "${mbs[chacha20-poly1305]}" "$chacha")"
  tsv+="$size\t${mbs[aes-gcm-16/128]}\t${mbs[aes-gcm-16/256]}\t${mbs[chacha20-poly1305]}\t${mbs[aes-cbc/128+hmac-sha2-256-128]}\t$gcm\t$chacha\n"
  unset mbs
done
echo
echo "target: aes-gcm-16/128 at 1400 octets >= 50 % of openssl aes-128-gcm"
if [[ -n $out ]]; then
  mkdir -p "$out"
  printf %b "$tsv" >"$out/esp_speed.tsv"
fi
