#!/usr/bin/env bash
# pack.sh — download the Debian 12 packages hpcml needs on the GPU machine
# (runtime and -dev, with their dependencies, minus what the GPU image has)
# into device-kit/ (ignored by git), for scripts/device/check.sh.
#
#   scripts/device/pack.sh [--no-cmake]
#                                 run on an ordinary Debian 12 amd64 machine
#                                 with network (apt lists updated if missing);
#                                 --no-cmake: leave cmake out (the image's is used)
#
# The closure is resolved by apt itself as on an empty system (apt-get -s
# with an empty dpkg status), so each dependency takes the alternative apt
# would install; then the packages the image is assumed to have
# (scripts/device/kit.conf: Priority required + KIT_IMAGE_HAS and their
# closure) and the pruned ones (KIT_PRUNE, each with its reason) are removed.
# Writes device-kit/*.deb, device-kit/MANIFEST (package version bytes sha256)
# and prints the kit's size, the size of what else travels with the tree, and
# their sum against the 64 MiB limit; exits 1 when it does not fit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/device/kit.conf"
kit=$root/$KIT_DIR
case ${1:-} in
  --no-cmake) KIT_ROOTS=("${KIT_ROOTS[@]/cmake/}") ;;
  "") ;;
  *) echo "usage: scripts/device/pack.sh [--no-cmake]" >&2; exit 1 ;;
esac

[[ $(dpkg --print-architecture) == amd64 ]] || { echo "pack: needs an amd64 machine" >&2; exit 1; }
if ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "pack: needs Debian 12 (bookworm): the kit's packages must be Debian 12's" >&2
  exit 1
fi
if ! apt-cache show libhdf5-openmpi-dev >/dev/null 2>&1; then apt-get update -qq; fi

work=$(mktemp -d /tmp/hpcml-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
: >"$work/status"
sim() { # PACKAGES... -> the packages apt would install on an empty system
  apt-get -s -o Dir::State::status="$work/status" -o Debug::NoLocking=1 \
    -o APT::Install-Recommends=0 -o APT::Install-Suggests=0 install "$@" 2>&1 |
    awk '/^Inst /{print $2}' | sort -u
}
# Debian's Priority: required packages (debootstrap --variant=minbase's set;
# like debootstrap, usr-is-merged rather than usrmerge, which would pull perl).
required=$(apt-cache dumpavail | awk '/^Package:/{p=$2} /^Priority: required/{print p}' | sort -u)
# shellcheck disable=SC2086
sim $required usr-is-merged "${KIT_IMAGE_HAS[@]}" >"$work/base"
sim "${KIT_ROOTS[@]}" usr-is-merged >"$work/all" # (as for the base: not usrmerge)
[[ -s $work/all ]] || { echo "pack: apt resolved nothing (run apt-get update?)" >&2; exit 1; }
printf '%s\n' "${KIT_PRUNE[@]}" | sort -u >"$work/prune"
comm -23 "$work/all" "$work/base" | comm -23 - "$work/prune" >"$work/kit"
echo "pack: closure $(wc -l <"$work/all") packages, image has $(comm -12 "$work/all" \
  "$work/base" | wc -l), pruned $(comm -12 "$work/all" "$work/prune" | wc -l), kit $(wc -l <"$work/kit")"

mkdir -p "$work/dl"
chmod 755 "$work" "$work/dl" # apt's _apt user writes there
# A .deb already in the kit with the checksum apt expects is reused.
xargs apt-get download --print-uris -q=2 <"$work/kit" >"$work/uris"
get=()
while read -r _ file _ sum; do
  if [[ -f $kit/$file && $(sha256sum "$kit/$file" | cut -d' ' -f1) == "${sum#SHA256:}" ]]; then
    cp "$kit/$file" "$work/dl/"
  else
    get+=("${file%%_*}")
  fi
done <"$work/uris"
echo "pack: $((n_want = $(wc -l <"$work/kit"))) packages, $(( n_want - ${#get[@]} )) reused from $KIT_DIR/, ${#get[@]} to download"
if ((${#get[@]})); then
  (cd "$work/dl" && apt-get download -q=2 "${get[@]}") ||
    { echo "pack: apt-get download failed (stale lists? run apt-get update)" >&2; exit 1; }
fi
n=$(find "$work/dl" -name '*.deb' | wc -l)
[[ $n -eq $n_want ]] || { echo "pack: got $n .debs for $n_want packages" >&2; exit 1; }
for f in "$work"/dl/*.deb; do
  printf '%s %s %s %s\n' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)" \
    "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
done >"$work/dl/MANIFEST"
rm -rf "$kit.tmp"
mv "$work/dl" "$kit.tmp"
rm -rf "$kit"
mv "$kit.tmp" "$kit"

# What travels: tracked and untracked-not-ignored files (+ shared/ when the
# checkout has one), plus the carried kit.
cd "$root"
kit_bytes=$(du -cb "$kit"/* | tail -1 | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
tree=$( { git ls-files -z -co --exclude-standard; if [[ -d shared ]]; then find shared -type f -print0; fi; } |
  sort -zu | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((kit_bytes + tree))
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b / 1048576}'; }
echo "pack: kit $KIT_DIR/: $n packages, $kit_bytes bytes ($(mib "$kit_bytes"))"
echo "pack: source tree (git ls-files): $tracked bytes ($(mib "$tracked"))"
echo "pack: what travels besides the kit (tracked + untracked not ignored): $tree bytes ($(mib "$tree"))"
echo "pack: total $total bytes ($(mib "$total")) of $KIT_TRAVEL_LIMIT ($(mib "$KIT_TRAVEL_LIMIT"))"
if ((total > KIT_TRAVEL_LIMIT)); then
  echo "pack: does not fit: drop more in scripts/device/kit.conf (KIT_PRUNE)" >&2
  exit 1
fi
