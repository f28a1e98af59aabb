#!/usr/bin/env bash
# strongSwan (Debian's package) beside ours, in one run, between the same
# namespaces (two_sites of tests/e2e/lib.sh: gateways a 198.18.0.1 and
# b 198.18.0.2, a host behind each, 198.18.10.0/24 and 198.18.20.0/24):
#   1. initiate -> CHILD_SA established (bench/vici_initiate.py: the vici
#      request that `swanctl --initiate --child` sends, timed on an open
#      connection until charon answers), IKEv2 with a pre-shared key,
#      IKE aes128gcm16-prfsha256-x25519 and aes128gcm16-prfsha256-modp3072,
#      ESP aes128gcm16, RUNS times each (the IKE_SA is terminated between
#      runs, so every run is a full IKE_SA_INIT + IKE_AUTH), beside our setup
#      latency p50 (bench/setup_latency --samples_out, given with
#      --ours_samples);
#   2. iperf3 TCP and UDP from host to host through strongSwan's userspace
#      ESP (the kernel-libipsec plugin: this kernel has no ESP), through our
#      in-process engine (bench/e2e_common.sh, as bench/e2e_throughput.sh),
#      and over the plain link, as ratios. Both tunnels: AES-GCM-16/128,
#      tunnel mode, ESP in UDP (strongSwan: encap = yes).
# One charon per gateway namespace, each with its own strongswan.conf
# (STRONGSWAN_CONF), vici socket and log in a temp dir, started under
# `unshare -m` with its own temp dir bound over /run (charon's pid file is
# always /var/run/charon.pid), so the two never meet and the host's
# /etc/strongswan* and /run are neither read nor changed. Everything it
# creates (namespaces, the PIDs it started, the temp dir) is removed on exit,
# also on failure. Root only.
#
# Usage: bench/strongswan.sh [--runs N] [--seconds S] [--ours_samples FILE] [--out DIR]
#   --runs N         initiations per proposal (default 20, after 1 warm-up)
#   --seconds S      per iperf3 run (default 10)
#   --ours_samples   one latency in µs per line, for the ratio of the p50s
#   --out DIR        also write the samples and TSVs for bench/plot there
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20 ours_samples="" out=""
E2E_SECONDS=10
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) E2E_SECONDS=$2; shift 2 ;;
    --ours_samples) ours_samples=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "bench/strongswan.sh: unknown argument '$1' (see the header of the script)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench/strongswan.sh: --runs must be a positive number" >&2; exit 2; }
[[ -z $ours_samples || -s $ours_samples ]] || {
  echo "bench/strongswan.sh: --ours_samples $ours_samples is missing or empty" >&2; exit 2; }

source tests/e2e/lib.sh
source bench/e2e_common.sh
require_root
bench/setup || fail "bench/setup could not install strongSwan, iperf3 or gnuplot"
CHARON=/usr/lib/ipsec/charon
[[ -x $CHARON ]] || fail "$CHARON is missing although strongswan-charon is installed"
[[ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]] ||
  fail "the kernel-libipsec plugin is missing (libcharon-extra-plugins)"
e2e_binaries

# summarize FILE: "n p50 p90 max mean" of the µs values in FILE (nearest rank,
# as bench/latency_summary.cc).
summarize() {
  python3 - "$1" <<'PY'
import math, sys
v = sorted(float(l) for l in open(sys.argv[1]) if l.strip())
r = lambda p: v[min(max(math.ceil(p * len(v)), 1), len(v)) - 1]
print(len(v), r(0.5), r(0.9), v[-1], sum(v) / len(v))
PY
}
ms() { python3 -c 'import sys; print(f"{float(sys.argv[1])/1000:.2f}")' "$1"; }

two_sites
bg hb iperf-host iperf3 -s -B 198.18.20.2
bg b iperf-gateway iperf3 -s -B 198.18.0.2
sleep 1

say "plain link between the gateways"
plain_tcp=$(iperf_rate a 198.18.0.2)
plain_udp=$(iperf_rate a 198.18.0.2 -u -b 0 -l 1300)

say "ours: the in-process ESP engine"
engine_up
ours_tcp=$(iperf_rate ha 198.18.20.2)
ours_udp=$(iperf_rate ha 198.18.20.2 -u -b 0 -l 1300)
engine_down

# --- strongSwan ------------------------------------------------------------
PSK=0x$(openssl rand -hex 32)
declare -A CHARON_PID
charon_conf() {  # SIDE SELF PEER LOCAL_NET REMOTE_NET
  local d="$E2E_DIR/charon-$1"
  mkdir -p "$d/run"
  cat >"$d/strongswan.conf" <<CONF
charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 hmac gcm aes kdf kernel-libipsec kernel-netlink socket-default vici
  install_routes = yes
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
  filelog {
    log {
      path = $E2E_DIR/charon-$1-ike.log
      default = 1
      time_format = %T
    }
  }
  syslog {
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 pkcs8 x509
}
CONF
  {
    echo "connections {"
    local name ike
    for name in x25519 modp3072; do
      ike=aes128gcm16-prfsha256-$name
      cat <<CONF
  $name {
    local_addrs = $2
    remote_addrs = $3
    proposals = $ike
    encap = yes
    mobike = no
    local {
      auth = psk
      id = $2
    }
    remote {
      auth = psk
      id = $3
    }
    children {
      $name {
        local_ts = $4
        remote_ts = $5
        esp_proposals = aes128gcm16
        mode = tunnel
      }
    }
  }
CONF
    done
    cat <<CONF
}
secrets {
  ike-gateways {
    id-a = 198.18.0.1
    id-b = 198.18.0.2
    secret = $PSK
  }
}
CONF
  } >"$d/swanctl.conf"
}
sw() {  # SIDE swanctl-command [options]: swanctl against that side's charon
  local d="$E2E_DIR/charon-$1" cmd=$2
  STRONGSWAN_CONF="$d/strongswan.conf" swanctl "$cmd" --uri "unix://$d/charon.vici" "${@:3}"
}
start_charon() {  # SIDE
  local d="$E2E_DIR/charon-$1"
  bg "$1" "charon-$1" env STRONGSWAN_CONF="$d/strongswan.conf" \
    unshare -m sh -c "mount --bind '$d/run' /run && exec $CHARON"
  CHARON_PID[$1]=$LAST_PID
  wait_for 10 test -S "$d/charon.vici" ||
    fail "charon in $1 did not open its vici socket: $(tail -n 3 "$E2E_DIR/charon-$1.log" "$E2E_DIR/charon-$1-ike.log" 2>/dev/null | tr '\n' ' ')"
  local plugins
  plugins=$(sw "$1" --stats | sed -n 's/^loaded plugins: //p')
  [[ " $plugins " == *" kernel-libipsec "* ]] ||
    fail "charon in $1 runs without the kernel-libipsec plugin (loaded: $plugins); this kernel has no ESP, so no CHILD_SA can be installed: $(grep -iE "libipsec|tun" "$E2E_DIR/charon-$1-ike.log" | tail -n 2 | tr '\n' ' ')"
  sw "$1" --load-all --file "$d/swanctl.conf" >"$d/load.log" 2>&1 ||
    fail "swanctl --load-all in $1 failed: $(grep -v 'opening directory' "$d/load.log" | tr '\n' ' ')"
  grep -q "successfully loaded 2 connections" "$d/load.log" ||
    fail "charon in $1 did not take both connections: $(grep -v 'opening directory' "$d/load.log" | tr '\n' ' ')"
}

say "strongSwan: one charon per gateway (kernel-libipsec)"
charon_conf a 198.18.0.1 198.18.0.2 198.18.10.0/24 198.18.20.0/24
charon_conf b 198.18.0.2 198.18.0.1 198.18.20.0/24 198.18.10.0/24
start_charon a
start_charon b

# The cost of swanctl itself: start, connect to vici, one request.
: >"$E2E_DIR/cli_us"
for _ in $(seq 20); do
  t0=$EPOCHREALTIME
  sw a --stats >/dev/null
  t1=$EPOCHREALTIME
  echo $((${t1//[.,]/} - ${t0//[.,]/})) >>"$E2E_DIR/cli_us"
done

say "strongSwan: $runs initiations with X25519, then with MODP-3072"
for name in x25519 modp3072; do
  python3 bench/vici_initiate.py --initiator "$E2E_DIR/charon-a/charon.vici" \
    --responder "$E2E_DIR/charon-b/charon.vici" --child "$name" --runs "$runs" \
    --out "$E2E_DIR/${name}_us" || fail "strongSwan did not establish the CHILD_SA $name (see charon-a-ike.log)"
done

say "strongSwan: throughput through kernel-libipsec"
sw a --initiate --child x25519 --timeout 10 >/dev/null 2>&1 || fail "swanctl --initiate --child x25519 failed"
pings ha 3 198.18.20.2 -i 0.2 || fail "no traffic through strongSwan's tunnel (kernel-libipsec)"
sw_tcp=$(iperf_rate ha 198.18.20.2)
sw_udp=$(iperf_rate ha 198.18.20.2 -u -b 0 -l 1300)
sw_child=$(sw a --list-sas | grep -E 'AES_GCM|in .*bytes|out .*bytes' | tr -s ' ' | head -n 3 | tr '\n' ';')
sw a --terminate --ike x25519 --timeout 10 >/dev/null 2>&1 || true
for side in a b; do stop_pid "${CHARON_PID[$side]}"; done

# --- report ---------------------------------------------------------------
read -r _ cli_p50 _ <<<"$(summarize "$E2E_DIR/cli_us")"
ours_p50=""
if [[ -n $ours_samples ]]; then read -r _ ours_p50 _ <<<"$(summarize "$ours_samples")"; fi
row() {  # NAME LABEL
  local n p50 p90 max mean
  read -r n p50 p90 max mean <<<"$(summarize "$E2E_DIR/$1_us")"
  printf '%-34s %4d %9s %9s %9s %9s   %s\n' "$2" "$n" "$(ms "$mean")" "$(ms "$p50")" "$(ms "$p90")" \
    "$(ms "$max")" "$(if [[ -n $ours_p50 ]]; then ratio "$p50" "$ours_p50"; else echo "-"; fi)"
  if [[ -n $out ]]; then
    printf '%s\t%d\t%s\t%s\t%s\t%s\n' "$1" "$n" "$(ms "$mean")" "$(ms "$p50")" "$(ms "$p90")" "$(ms "$max")" >>"$out/strongswan_initiate.tsv"
    cp "$E2E_DIR/$1_us" "$out/strongswan_$1_us.txt"
  fi
}
if [[ -n $out ]]; then
  mkdir -p "$out"
  printf 'proposal\tn\tmean_ms\tp50_ms\tp90_ms\tmax_ms\n' >"$out/strongswan_initiate.tsv"
fi
echo
echo "strongswan: strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon) (Debian), IKEv2, PSK, one charon per gateway namespace, kernel-libipsec;"
echo "initiate: the vici request of \`swanctl --initiate --child\` until charon answers with the CHILD_SA established"
echo "(full IKE_SA_INIT + IKE_AUTH, IKE_SA terminated between runs), $runs runs after 1 warm-up"
echo
printf '%-34s %4s %9s %9s %9s %9s   %s\n' "initiate -> CHILD_SA (ms)" n mean p50 p90 max "p50 / ours"
echo "-------------------------------------------------------------------------------------------"
row x25519 "IKE aes128gcm16-prfsha256-x25519"
row modp3072 "IKE aes128gcm16-prfsha256-modp3072"
if [[ -n $ours_p50 ]]; then
  printf '%-34s %4s %9s %9s\n' "ours: SaRequest -> SAs on both" "$(wc -l <"$ours_samples")" "" "$(ms "$ours_p50")"
  echo "(ours from bench/setup_latency: loopback, real controller, gRPC + SQLite)"
else
  echo "(ours: run bench/setup_latency --samples_out=FILE and pass --ours_samples FILE for the ratio)"
fi
echo "not included above: swanctl's own start (start, vici connect, one --stats request): p50 $(ms "$cli_p50") ms"
echo "ours in these namespaces: first ping through the engine, SA setup included: ${ENGINE_FIRST_PING_MS:-?} ms (1 sample)"
cat <<TXT

e2e: iperf3, one stream, ${E2E_SECONDS} s per run, host behind a -> host behind b; AES-GCM-16/128, tunnel mode, ESP in UDP
path                                      TCP Mbit/s   UDP (1300 B) Mbit/s
---------------------------------------------------------------------------
ours: in-process ESP engine (TUN)         $(printf '%10s %13s' "$ours_tcp" "$ours_udp")
strongSwan: kernel-libipsec (TUN)         $(printf '%10s %13s' "$sw_tcp" "$sw_udp")
plain veth between the gateways           $(printf '%10s %13s' "$plain_tcp" "$plain_udp")
ours / strongSwan                         $(printf '%10s %13s' "$(ratio "$ours_tcp" "$sw_tcp")" "$(ratio "$ours_udp" "$sw_udp")")
ours / plain                              $(printf '%10s %13s' "$(ratio "$ours_tcp" "$plain_tcp")" "$(ratio "$ours_udp" "$plain_udp")")
strongSwan / plain                        $(printf '%10s %13s' "$(ratio "$sw_tcp" "$plain_tcp")" "$(ratio "$sw_udp" "$plain_udp")")
strongSwan's CHILD_SA: $sw_child
target: ours >= 5x strongSwan userspace ESP (TCP)
TXT
if [[ -n $out ]]; then
  printf 'path\ttcp_mbit\tudp_mbit\nours: in-process ESP engine\t%s\t%s\nstrongSwan: kernel-libipsec\t%s\t%s\nplain veth\t%s\t%s\n' \
    "$ours_tcp" "$ours_udp" "$sw_tcp" "$sw_udp" "$plain_tcp" "$plain_udp" >"$out/e2e.tsv"
fi
