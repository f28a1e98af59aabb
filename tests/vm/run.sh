#!/usr/bin/env bash
# The kernel XFRM backend on a real kernel with ESP: boots Debian's own
# kernel (linux-image-amd64's current version) in qemu under software
# emulation, shares this machine's file system with it read-only (9p), and
# runs tests/vm/guest.sh there: the datapath suites with every SA case, the
# controller and two agents on kernel XFRM (a ping crosses kernel ESP),
# XFRM <-> in-process engine interop for AES-GCM and AES-CBC + HMAC-SHA-256,
# and an SPD the controller pushes to XFRM agents (policy delete -> block).
#
#   tests/vm/run.sh                      builds what it needs with Bazel
#   tests/vm/run.sh CONTROLLER IPSECCTL AGENT CA CONFORMANCE_TEST XFRM_TEST
#
# Installs (idempotently) qemu-system-x86, busybox-static, cpio and kmod,
# downloads the kernel package once into ~/.cache/ikeless-vm, and prints
# the guest's console; exits 0 only if every guest case passed. Nothing it
# starts outlives it: the VM is one PID (killed on exit), and namespaces
# exist only inside the VM.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${IKELESS_VM_CACHE:-$HOME/.cache/ikeless-vm}
say() { printf '[vm %s] %s\n' "$(date +%T)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "tests/vm/run.sh needs root (apt, qemu, 9p of /); skipped"; exit 0; }

need=()
for p in qemu-system-x86 busybox-static cpio kmod; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
    die "apt-get install ${need[*]} failed"
fi

if (($# == 6)); then
  bins=("$@")
else
  say "building with Bazel"
  (cd "$repo" && bazel build //controller:ikeless-controller //tools/ipsecctl //agent:ikeless-agent \
    //tools/ikeless-ca //datapath:datapath_conformance_test //datapath/xfrm:xfrm_datapath_test) ||
    die "the build failed"
  bin=$(cd "$repo" && bazel info bazel-bin 2>/dev/null)
  bins=("$bin/controller/ikeless-controller" "$bin/tools/ipsecctl/ipsecctl" "$bin/agent/ikeless-agent"
        "$bin/tools/ikeless-ca/ikeless-ca" "$bin/datapath/datapath_conformance_test"
        "$bin/datapath/xfrm/xfrm_datapath_test")
fi
for i in "${!bins[@]}"; do
  bins[$i]=$(readlink -f "${bins[$i]}")
  [[ -x ${bins[$i]} ]] || die "${bins[$i]} is not an executable"
done

# Debian's kernel, once.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}' || true)
pkg=${pkg:-$(ls "$cache" 2>/dev/null | grep '^linux-image-' | head -1 || true)}
[[ -n $pkg ]] || die "cannot tell which kernel package linux-image-amd64 names"
kroot="$cache/$pkg"
if [[ ! -d $kroot/boot ]]; then
  say "downloading $pkg"
  mkdir -p "$cache/dl"
  (cd "$cache/dl" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
  rm -rf "$kroot.tmp" && dpkg -x "$cache"/dl/"$pkg"_*.deb "$kroot.tmp" && mv "$kroot.tmp" "$kroot"
  rm -f "$cache"/dl/"$pkg"_*.deb
fi
kver=$(ls "$kroot/lib/modules" | head -1)
[[ -f $kroot/lib/modules/$kver/modules.dep ]] || depmod -b "$kroot" "$kver"

# Not under /tmp: the guest mounts a tmpfs over it, and must see these.
mkdir -p "$cache"
work=$(mktemp -d "$cache/run.XXXXXX")
qemu_pid=
cleanup() {
  if [[ -n $qemu_pid ]]; then
    # $qemu_pid is timeout(1), which passes TERM on to qemu; its process
    # group (it makes its own) holds qemu if TERM is not enough.
    kill -TERM "$qemu_pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The initramfs: busybox, the modules in dependency order, and an init
# that mounts the host's root and runs guest.sh in a chroot of it. Without
# drbg and jitterentropy_rng every state add fails ("unable to initialize
# cryptographic operations"): the IV generators need the default RNG.
# (jitterentropy_rng may refuse TCG's coarse clock and fail to load; drbg
# then seeds from the other sources, and states still install.)
# drbg's self-tests need ctr(aes), sha512 and the jitter RNG loaded first.
wanted=(virtio_pci 9pnet_virtio 9p ctr ecb sha512_generic jitterentropy_rng drbg veth tun xfrm_user esp4 esp6 gcm
        ghash-generic seqiv echainiv authencesn chacha_generic poly1305_generic
        chacha20poly1305)
init="$work/initramfs"
mkdir -p "$init"/{bin,sbin,proc,sys,dev,host,tmp}
cp /bin/busybox "$init/bin/busybox"
: >"$init/modules.list"
for m in "${wanted[@]}"; do
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m") || die "kernel $kver: no module $m"
  awk '$1 == "insmod" {print $2}' <<<"$deps" |
    while read -r ko; do
      rel=${ko#"$kroot"}
      grep -qxF "$rel" "$init/modules.list" && continue
      mkdir -p "$init$(dirname "$rel")"
      cp "$ko" "$init$rel"
      echo "$rel" >>"$init/modules.list"
    done
done
# The scripts as well: the checkout may be under /tmp (CI's clone is).
mkdir -p "$work/scripts/vm" "$work/scripts/e2e"
cp "$repo/tests/vm/guest.sh" "$work/scripts/vm/"
cp "$repo/tests/e2e/lib.sh" "$work/scripts/e2e/"
printf '%q ' "$work/scripts/vm/guest.sh" "${bins[@]}" >"$init/guest.cmd"
cat >"$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do insmod "$m" 2>/dev/null || echo "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose host /host || echo "mount 9p failed"
for d in proc sys dev; do mount --rbind /$d /host/$d; done
mount -t tmpfs tmp /host/tmp && mount -t tmpfs run /host/run
echo "guest: up in $(cut -d' ' -f1 /proc/uptime) s"
chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TERM=dumb \
  /bin/bash -c "$(cat /guest.cmd)"
echo "guest: done in $(cut -d' ' -f1 /proc/uptime) s"
poweroff -f
INIT
chmod +x "$init/init"
(cd "$init" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

log="$work/console.log"
say "booting $pkg under qemu (TCG) with $(wc -l <"$init/modules.list") modules"
timeout "${IKELESS_VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
  -nographic -no-reboot -kernel "$kroot/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  </dev/null >"$log" 2>&1 &
qemu_pid=$!
# The console without carriage returns and the firmware's terminal escapes;
# in the background, so that a signal reaches the trap at once.
tail -n +1 -f "$log" --pid="$qemu_pid" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' &
wait "$qemu_pid" || true
wait || true  # the console filter ends with qemu
qemu_pid=
result=$(tr -d '\r' <"$log" | grep -o 'IKELESS-VM-RESULT: .*' | tail -1)
[[ -n $result ]] || die "the guest printed no result (timeout or crash); console above"
say "${result#IKELESS-VM-RESULT: }"
[[ $result == *" 0 failed" ]]
