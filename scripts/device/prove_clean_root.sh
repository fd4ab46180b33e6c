#!/usr/bin/env bash
# prove_clean_root.sh — prove the device kit without a GPU: build a clean
# Debian 12 root with debootstrap (minbase + what the GPU image is assumed to
# have, kit.conf's KIT_IMAGE_HAS: gcc, libc6-dev, make, python3 — none of
# hpcml's packages), copy the tree and device-kit/ in, and run
# `scripts/device/check.sh --cpu` inside it with chroot: the kit's unpack,
# the build with -DHPCML_CUDA=OFF and the CPU steps must pass using only the
# kit's prefix, and the GPU steps must skip (exit 77), not fail.
#
#   scripts/device/prove_clean_root.sh [DIR]      as root; DIR default /var/tmp/hpcml-clean-root
#
# Not part of ctest: it needs root and the Debian mirror (debootstrap
# downloads ~70 MB once; DIR/base is reused by later runs, DIR/run is a fresh
# copy each time). Runs pack.sh first when device-kit/ is missing. Copies the
# summary and log to DIR/out/. Exit 0 when the proof holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/device/kit.conf"
dir=${1:-/var/tmp/hpcml-clean-root}
mirror=${HPCML_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[[ $(id -u) -eq 0 ]] || { echo "prove_clean_root: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
[[ -f $root/$KIT_DIR/MANIFEST ]] || bash "$root/scripts/device/pack.sh"
command -v debootstrap >/dev/null || command -v /usr/sbin/debootstrap >/dev/null ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
export PATH=$PATH:/usr/sbin:/sbin

base=$dir/base run=$dir/run
include=$(IFS=,; echo "${KIT_IMAGE_HAS[*]}")
mkdir -p "$dir"
if [[ ! -f $base/.hpcml-base || $(cat "$base/.hpcml-base") != "$include" ]]; then
  echo "prove_clean_root: debootstrap --variant=minbase --include=$include bookworm (a few minutes)"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase --include="$include" bookworm "$base.tmp" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    { tail -20 "$dir/debootstrap.log" >&2; exit 1; }
  echo "$include" >"$base.tmp/.hpcml-base"
  rm -rf "$base"
  mv "$base.tmp" "$base"
fi

# A fresh copy of the clean root for this run; never delete through a mount.
unmount_all() { { grep -o " $run/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done; }
unmount_all
if grep -q " $run/" /proc/mounts; then echo "prove_clean_root: $run still has mounts" >&2; exit 1; fi
rm -rf "$run"
cp -a "$base" "$run"
trap unmount_all EXIT

# None of the kit's packages is in the clean root, nor MPI, HDF5, BLAS or
# libconfig libraries. (libjansson4 is: Debian's binutils, under gcc, links
# it, as Ubuntu's does; the kit brings libjansson-dev.)
while read -r p _; do
  if chroot "$run" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "prove_clean_root: $p (in the kit) is installed in the clean root" >&2
    exit 1
  fi
done <"$root/$KIT_DIR/MANIFEST"
for l in libmpi.so libhdf5 libopenblas libconfig.so; do
  if find "$run/usr/lib" "$run/lib" -name "$l*" 2>/dev/null | grep -q .; then
    echo "prove_clean_root: $l found in the clean root" >&2
    exit 1
  fi
done
echo "prove_clean_root: clean root $run: $(chroot "$run" dpkg-query -W | wc -l) packages, none of the kit's $(wc -l <"$root/$KIT_DIR/MANIFEST")"

# What travels to the device machine: tracked + untracked-not-ignored files + the kit.
mkdir -p "$run/src"
(cd "$root" && git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
  tar -xf - -C "$run/src"
cp -a "$root/$KIT_DIR" "$run/src/$KIT_DIR"

mount -t proc proc "$run/proc"
mount -t sysfs sysfs "$run/sys" # hwloc reads the CPU topology there
mkdir -p "$run/dev/shm"
mount -t tmpfs -o size=2g tmpfs "$run/dev/shm"
rc=0
chroot "$run" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 HPCML_CHECK_BUDGET=${HPCML_CHECK_BUDGET:-2400} \
  HPCML_CHECK_ROWS=${HPCML_CHECK_ROWS:-100000} HPCML_CHECK_TIMEOUT_SCALE=${HPCML_CHECK_TIMEOUT_SCALE:-6} \
  bash /src/scripts/device/check.sh /out --cpu || rc=$?
mkdir -p "$dir/out"
cp "$run/out/summary.json" "$run/out/check.log" "$dir/out/" 2>/dev/null || true
unmount_all

# The verdict: the CPU steps passed, the GPU steps skipped (not failed).
verdict=0
python3 - "$dir/out/summary.json" <<'PY' || verdict=$?
import json, sys
s = json.load(open(sys.argv[1]))
status = {x["name"]: x["status"] for x in s["steps"]}
must_pass = ["env", "unpack", "build", "demo_data", "demo", "preempt", "cpu_tests"]
must_skip = ["nccl", "gpu_step_equiv", "test_train_gpu", "gpu_bench", "precision", "torch_speed"]
bad = [f"{n}: {status.get(n)} (want pass)" for n in must_pass if status.get(n) != "pass"]
bad += [f"{n}: {status.get(n)} (want skip)" for n in must_skip if status.get(n) != "skip"]
for b in bad:
    print("prove_clean_root: " + b)
print("prove_clean_root: " + ("PASS" if not bad else "FAIL") + f" ({s['seconds']:.0f} s in the clean root)")
sys.exit(1 if bad else 0)
PY
[[ $rc -eq 0 && $verdict -eq 0 ]]
