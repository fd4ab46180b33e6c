#!/usr/bin/env bash
# journal.sh — throughput of the sweep journal's locked append (O_EXCL lock file, replay,
# append, fsync, release) with 1..N concurrent writer processes on one file system.
#
#   benchmarks/scaling/journal.sh BUILD_DIR OUT.csv [DIR] [OPS] [WRITERS...]
#
# DIR is where the journal lives (default a temp dir under /tmp; point it at the shared
# file system of a cluster to measure that one). OPS appends per writer (default 200),
# WRITERS default 1 2 4 8 16. Each point is the median of 3 runs by appends/s.
# Output: writers,ops,seconds,appends_per_s,mean_latency_ms. See docs/scaling.md.
set -euo pipefail
bench=$1/tests/mpi_journal_bench
out=$2
dir=${3:-$(mktemp -d /tmp/hpcml-journal.XXXXXX)}
ops=${4:-200}
shift $(($# >= 4 ? 4 : $#))
writers=("$@")
((${#writers[@]})) || writers=(1 2 4 8 16)
[[ -x $bench ]] || { echo "journal.sh: $bench not built" >&2; exit 1; }
echo "writers,ops,seconds,appends_per_s,mean_latency_ms" >"$out"
for w in "${writers[@]}"; do
  runs=()
  for _ in 1 2 3; do
    rm -rf "$dir/j" && mkdir -p "$dir/j"
    runs+=("$("$bench" "$dir/j" "$w" "$ops")")
  done
  printf '%s\n' "${runs[@]}" | sort -t, -k4 -g | sed -n 2p >>"$out"
done
rm -rf "$dir/j"
cat "$out"
