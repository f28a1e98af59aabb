#!/usr/bin/env bash
# strongSwan's own load tester on this machine, for a same-run ratio to our
# setups/s (issue 16). Bench only, never part of the product: the
# load-tester plugin ships preconfigured credentials, so Debian does not
# build it; this script builds it from Debian's own source package.
#
#   1. Installs, idempotently: a deb-src entry for bookworm
#      (/etc/apt/sources.list.d/ikeless-deb-src.sources, only if apt knows no
#      source for strongswan yet) and the few build dependencies (dpkg-dev,
#      build-essential, pkg-config, libssl-dev, bzip2, xz-utils).
#   2. `apt-get source strongswan` into $IKELESS_BENCH_CACHE (default
#      /var/cache/ikeless-bench, outside the repo) - the newest version whose
#      source the mirror serves - configured with --enable-load-tester, the
#      openssl plugin and charon's defaults less what needs missing libraries
#      or is not needed here, built with `nice -n 19 make -j2` and installed
#      into a private prefix beside it (never /usr). Done again only when that
#      prefix is missing (or with --rebuild).
#   3. One charon, in its own network namespace (only lo, 127.0.0.1) and
#      mount namespace (a temp dir bound over the prefix's run dir, where
#      its pid file and the load tester's socket live), with its own
#      strongswan.conf (STRONGSWAN_CONF): the host's /etc/strongswan*,
#      /run and ports 500/4500 are neither read nor touched. As strongSwan's
#      docs describe the plugin, charon initiates IKE_SAs against itself:
#      INITIATORS threads start IKE_SAs to 127.0.0.1 one after another
#      (`iterations = 0`: until stopped; `delay = 1` ms, so that a thread
#      waiting for the INIT_LIMIT of half-open IKE_SAs sleeps instead of
#      spinning), and the same charon answers them, so both ends of every
#      IKE_SA run on this machine. IKEv2, IKE aes128-sha256-x25519, ESP
#      aes128gcm16, pre-shared key (--auth pubkey: the plugin's RSA
#      certificates, one issued per IKE_SA), `fake_kernel = yes`: no SA is
#      installed.
#   4. After --warmup seconds, counts the IKE_SAs established over
#      --seconds seconds (charon's IKE_SA count over vici, `swanctl
#      --stats`: total less half-open, halved as both ends are counted;
#      no per-IKE_SA logging) and the CPU charon used meanwhile
#      (/proc/PID/stat), prints one line and writes it to --out.
#
# Everything it starts (one charon, by PID) and creates (a temp dir) is
# removed on exit, also on failure or Ctrl-C. Root only (namespaces, apt).
#
# Usage: bench/strongswan_load_tester.sh [--seconds S] [--warmup S]
#          [--initiators N] [--delay MS] [--init_limit N] [--threads N] [--auth psk|pubkey]
#          [--out FILE] [--build_only] [--rebuild] [--keep_dir]
#   --seconds S      measured window (default 10)
#   --warmup S       before the window (default 2)
#   --initiators N   load-tester initiator threads (default 4)
#   --delay MS       each initiator's pause after an initiation (default 1)
#   --init_limit N   half-open IKE_SAs at most, 0: unlimited (default 256)
#   --threads N      charon worker threads (default 16, charon's default)
#   --auth A         psk (default) or pubkey
#   --out FILE       also write the result line there (for bench/run)
#   --build_only     install and build, run nothing
#   --rebuild        build again even if the prefix exists
#   --keep_dir       keep the temp dir (strongswan.conf, charon.log)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10 warmup=2 initiators=4 delay=1 init_limit=256 threads=16 auth=psk out=""
build_only=0 rebuild=0 keep_dir=0
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --initiators) initiators=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --init_limit) init_limit=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --auth) auth=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build_only) build_only=1; shift ;;
    --rebuild) rebuild=1; shift ;;
    --keep_dir) keep_dir=1; shift ;;
    *) echo "bench/strongswan_load_tester.sh: unknown argument '$1' (see the header of the script)" >&2; exit 2 ;;
  esac
done

me=bench/strongswan_load_tester.sh
fail() { echo "$me: $*" >&2; exit 1; }
note() { echo "[load-tester $(date +%T)] $*" >&2; }
for v in seconds warmup; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "--$v must be a number of seconds"
done
for v in initiators threads; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || fail "--$v must be a positive number"
done
[[ $init_limit =~ ^[0-9]+$ ]] || fail "--init_limit must be a number"
[[ $delay =~ ^[0-9]+$ ]] || fail "--delay must be a number of milliseconds"
[[ $auth == psk || $auth == pubkey ]] || fail "--auth must be psk or pubkey"
((threads > initiators + 2)) ||
  fail "--threads must exceed --initiators by at least 3 (each initiator holds a thread)"
[[ $(id -u) -eq 0 ]] || fail "needs root (apt-get, network and mount namespaces)"

cache=${IKELESS_BENCH_CACHE:-/var/cache/ikeless-bench}/strongswan
mkdir -p "$cache"

# --- 1. what the build needs ----------------------------------------------
deb_src=/etc/apt/sources.list.d/ikeless-deb-src.sources
apt_updated=0
apt_update() {
  ((apt_updated)) && return 0
  apt-get update -q >"$cache/apt-update.log" 2>&1 ||
    fail "apt-get update failed: $(tail -n 2 "$cache/apt-update.log" | tr '\n' ' ')"
  apt_updated=1
}
source_versions() {  # the versions of strongswan's source apt knows, newest first
  apt-cache showsrc strongswan 2>/dev/null | sed -n 's/^Version: //p' | sort -u |
    sort -r -V
}

need_source=1
prefix_of() { echo "$cache/prefix-$1"; }
built_version=""
if [[ -f $cache/built-version ]]; then
  built_version=$(<"$cache/built-version")
  if ((!rebuild)) && [[ -x $(prefix_of "$built_version")/libexec/ipsec/charon &&
    -f $(prefix_of "$built_version")/lib/ipsec/plugins/libstrongswan-load-tester.so ]]; then
    need_source=0
  fi
fi

if ((need_source)); then
  packages=(dpkg-dev build-essential pkg-config libssl-dev bzip2 xz-utils iproute2 util-linux)
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    note "installing ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
      >"$cache/apt-install.log" 2>&1 ||
      fail "apt-get install ${missing[*]} failed: $(tail -n 2 "$cache/apt-install.log" | tr '\n' ' ')"
  fi

  if [[ -z $(source_versions) ]]; then
    apt_update
  fi
  if [[ -z $(source_versions) ]]; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [[ $codename == bookworm ]] ||
      fail "apt knows no source package for strongswan and this is not bookworm ($codename): add a deb-src entry by hand"
    note "adding $deb_src (deb-src for bookworm) so that apt-get source works"
    cat >"$deb_src" <<'EOF'
# Added by ikeless bench/strongswan_load_tester.sh: Debian's source packages
# for bookworm, so that `apt-get source strongswan` works (benchmarks only).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt_updated=0
    apt_update
    [[ -n $(source_versions) ]] || fail "apt knows no source package for strongswan even with $deb_src"
  fi

  # --- 2. apt-get source, configure, build, install ------------------------
  version="" src=""
  for v in $(source_versions); do
    upstream=${v#*:}
    upstream=${upstream%-*}
    if [[ -f $cache/src-$v/strongswan-$upstream/debian/changelog ]]; then
      version=$v src=$cache/src-$v/strongswan-$upstream
      break
    fi
    rm -rf "$cache/src-$v"
    mkdir -p "$cache/src-$v"
    note "apt-get source strongswan=$v"
    # The security archive's index may name a version whose files the mirror
    # does not serve (404): then the next older one.
    if (cd "$cache/src-$v" && apt-get source -q "strongswan=$v") >"$cache/apt-source.log" 2>&1 &&
      [[ -f $cache/src-$v/strongswan-$upstream/debian/changelog ]]; then
      version=$v src=$cache/src-$v/strongswan-$upstream
      break
    fi
    note "apt-get source strongswan=$v failed ($(grep -m1 -E '^E:' "$cache/apt-source.log" || tail -n 1 "$cache/apt-source.log")), trying an older version"
    rm -rf "$cache/src-$v"
  done
  [[ -n $version ]] || fail "apt-get source strongswan failed for every version apt knows ($(source_versions | tr '\n' ' '))"

  prefix=$(prefix_of "$version")
  rm -rf "$prefix" "$src/.ikeless-build"
  mkdir -p "$src/.ikeless-build"
  note "building strongSwan $version (load tester) into $prefix with nice -n 19 make -j2"
  t_build=$SECONDS
  # dpkg-source has applied Debian's patches; one touches a Makefile.am,
  # which would make automake (not installed) regenerate its Makefile.in.
  # The change (libtls's test list) does not matter here: keep the
  # generated files newer than their sources so make does not try.
  # One timestamp for all of them: make rebuilds only what is strictly older.
  stamp=$(date '+%Y-%m-%d %H:%M:%S')
  touch -d "$stamp" "$src/aclocal.m4" "$src/configure" "$src/config.h.in"
  find "$src" \( -name Makefile.in -o -name configure \) -exec touch -d "$stamp" {} +
  (
    cd "$src/.ikeless-build"
    nice -n 19 ../configure --prefix="$prefix" --sysconfdir="$prefix/etc" \
      --with-piddir="$prefix/run" \
      --enable-load-tester --enable-openssl \
      --disable-gmp --disable-des --disable-rc2 --disable-md5 --disable-fips-prf \
      --disable-pgp --disable-dnskey --disable-sshkey --disable-pkcs12 \
      --disable-stroke --disable-scripts --disable-pki --disable-updown \
      --disable-xauth-generic --disable-resolve --disable-attr --disable-ikev1 \
      --disable-static >configure.log 2>&1 ||
      { echo "configure failed: $(grep -m1 -E '^configure: error' configure.log || tail -n 1 configure.log)"; exit 1; }
    nice -n 19 make -j2 >make.log 2>&1 ||
      { echo "make failed: $(grep -m1 -E 'error|Error' make.log || tail -n 1 make.log)"; exit 1; }
    nice -n 19 make install >install.log 2>&1 ||
      { echo "make install failed: $(tail -n 1 install.log)"; exit 1; }
  ) >"$cache/build-error.txt" || fail "$(cat "$cache/build-error.txt") (logs in $src/.ikeless-build)"
  [[ -f $prefix/lib/ipsec/plugins/libstrongswan-load-tester.so ]] ||
    fail "the build has no load-tester plugin in $prefix/lib/ipsec/plugins"
  mkdir -p "$prefix/run"
  echo "$version" >"$cache/built-version"
  built_version=$version
  note "built strongSwan $version in $((SECONDS - t_build)) s"
fi
((build_only)) && { echo "$me: strongSwan $built_version with the load tester in $(prefix_of "$built_version")"; exit 0; }

# --- 3. run ---------------------------------------------------------------
prefix=$(prefix_of "$built_version")
charon=$prefix/libexec/ipsec/charon
[[ -x $charon ]] || fail "$charon is missing (run with --rebuild)"
mkdir -p "$prefix/run"
dir=$(mktemp -d /tmp/ikeless-load-tester.XXXXXX)
charon_pid=""
cleanup() {
  if [[ -n $charon_pid ]] && kill -0 "$charon_pid" 2>/dev/null; then
    kill -TERM "$charon_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$charon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$charon_pid" 2>/dev/null || true
    wait "$charon_pid" 2>/dev/null || true
  fi
  if ((keep_dir)); then echo "$me: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$dir/run"

# Both ends are this charon: raise the per-address half-open limits (every
# IKE_SA comes from 127.0.0.1), no cookies, a hashed IKE_SA table (default:
# 1 bucket), a new IKE_SA for every connection.
cat >"$dir/strongswan.conf" <<CONF
charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 hmac kdf aes gcm curve25519 load-tester kernel-netlink socket-default vici
  threads = $threads
  reuse_ikesa = no
  dos_protection = no
  cookie_threshold = 1000000
  block_threshold = 1000000
  init_limit_half_open = 0
  ikesa_table_size = 4096
  ikesa_table_segments = 16
  install_routes = no
  install_virtual_ip = no
  filelog {
    log {
      path = $dir/charon.log
      default = -1
      dmn = 1
      lib = 1
      time_format = %T
      flush_line = yes
    }
  }
  syslog {
  }
  plugins {
    vici {
      socket = unix://$dir/charon.vici
    }
    load-tester {
      enable = yes
      initiators = $initiators
      iterations = 0
      delay = $delay
      init_limit = $init_limit
      responder = 127.0.0.1
      proposal = aes128-sha256-x25519
      esp = aes128gcm16
      initiator_auth = $auth
      responder_auth = $auth
      fake_kernel = yes
      version = 2
    }
  }
}
CONF

note "charon ($built_version, load tester: initiators=$initiators, init_limit=$init_limit, threads=$threads, auth=$auth)"
STRONGSWAN_CONF=$dir/strongswan.conf setsid unshare -m -n sh -c \
  "ip link set lo up && mount --bind '$dir/run' '$prefix/run' && exec '$charon'" \
  >"$dir/charon.out" 2>&1 &
charon_pid=$!

log=$dir/charon.log
swanctl=$prefix/sbin/swanctl
# charon logs nothing per IKE_SA (a log line per message would cost it time);
# the count comes from its IKE_SA manager over vici: "IKE_SAs: T total, H
# half-open". No IKE_SA is deleted, and each has both ends in this charon,
# so (T - H) / 2 IKE_SAs have been established (initiator and responder).
stats() {  # "total half_open" or nothing
  STRONGSWAN_CONF=$dir/strongswan.conf "$swanctl" --stats --uri "unix://$dir/charon.vici" 2>/dev/null |
    sed -n 's/^IKE_SAs: \([0-9]*\) total, \([0-9]*\) half-open.*/\1 \2/p'
}
established() {  # IKE_SAs established so far (both ends), 0 while vici is not up
  local total half
  read -r total half <<<"$(stats)"
  echo $((${total:-0} - ${half:-0}))
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$charon_pid/stat" 2>/dev/null || echo 0; }

t_start=$EPOCHREALTIME
while (($(established) == 0)); do
  if ! kill -0 "$charon_pid" 2>/dev/null; then
    fail "charon exited at start: $(tail -n 3 "$dir/charon.out" "$log" 2>/dev/null | grep -v '^==>' | tr '\n' ' ')"
  fi
  if (($(python3 -c "import sys; print(int(float(sys.argv[2]) - float(sys.argv[1]) > 20))" "$t_start" "$EPOCHREALTIME"))); then
    fail "no IKE_SA established within 20 s: $(grep -aE 'plugin|failed|error|loaded plugins' "$log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
  fi
  sleep 0.1
done
loaded=$(sed -n 's/.*loaded plugins: //p' "$log" | head -n 1)
[[ " $loaded " == *" load-tester "* ]] || fail "charon runs without the load-tester plugin (loaded: $loaded)"

sleep "$warmup"
kill -0 "$charon_pid" 2>/dev/null || fail "charon died during the warm-up: $(tail -n 3 "$log" | tr '\n' ' ')"
n0=$(established) c0=$(cpu_ticks) t0=$EPOCHREALTIME
sleep "$seconds"
n1=$(established) c1=$(cpu_ticks) t1=$EPOCHREALTIME
kill -0 "$charon_pid" 2>/dev/null || fail "charon died during the measurement: $(tail -n 3 "$log" | tr '\n' ' ')"
read -r total half_open <<<"$(stats)"

read -r rate cores <<<"$(python3 - "$n0" "$n1" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" <<'PY'
import sys
n0, n1 = int(sys.argv[1]), int(sys.argv[2])
t0, t1, c0, c1, hz = map(float, sys.argv[3:])
dt = t1 - t0
print(f"{(n1 - n0) / 2 / dt:.0f} {(c1 - c0) / hz / dt:.2f}")
PY
)"
((n1 > n0)) || fail "no IKE_SA established during the measured ${seconds} s (see $log with --keep_dir)"
line=$(printf '%-24s %-10s %6s  (X25519, fake kernel, %s, initiators=%s, iterations=0, init_limit=%s, %s s; charon %s cores of %s)' \
  "strongswan load-tester" "IKE_SAs/s" "$rate" "$auth" "$initiators" "$init_limit" "$seconds" "$cores" "$(nproc)")
echo "$line"
echo "(strongSwan $built_version from Debian's source package, one charon initiating against itself on 127.0.0.1: both ends of every IKE_SA on this machine; IKE_SAs established per second, each counted once; at the end $total IKE_SA ends in charon, $half_open half-open)"
if [[ -n $out ]]; then
  mkdir -p "$(dirname "$out")"
  echo "$line" >"$out"
fi
