#!/usr/bin/env bash
# The rooms' include rules of docs/architecture.md hold: every `#include "room/..."` in
# src/, io/ and cuda/ names a room that the including room may use. The rules are read
# from the table between the "layers:begin" and "layers:end" marks of
# docs/architecture.md, so the page and this check cannot drift apart. A room that is
# not in the table (a new folder) fails too, until the page says where it stands.
# Checks: (1) the table parses and names core; (2) no include outside the rules, each
#           one reported as file:line room -> room; (3) a planted core -> io include in
#           a copy of the tree is caught (the check can fail).
# labels: unit layers
# timeout: 60
# ranks: none (reads the source tree)
# options: none
# skips (exit 77): never
# Usage: bash test_layers.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
doc=$SRC/docs/architecture.md
[[ -r $doc ]] || fail "docs/architecture.md missing"

# check_tree ROOT: print each include that breaks the rules; exit 1 when one does.
check_tree() {
  local root=$1
  awk '
    FNR == NR {
      if ($0 ~ /layers:begin/) { on = 1; next }
      if ($0 ~ /layers:end/) { on = 0; next }
      if (on && $0 ~ /^\| `/) {
        n = split($0, f, "|")
        room = f[2]; gsub(/[ `]/, "", room)
        uses = f[3]; gsub(/`/, "", uses)
        known[room] = 1
        allow[room, room] = 1
        m = split(uses, u, /[ ,]+/)
        for (i = 1; i <= m; i++) if (u[i] != "") allow[room, u[i]] = 1
      }
      next
    }
    FNR == 1 {
      path = FILENAME; sub("^" root "/", "", path)
      split(path, p, "/")
      from = (p[1] == "src") ? p[2] : p[1]
      if (!(from in known)) { printf "%s: room %s is not in the table\n", path, from; bad = 1 }
    }
    /^[ \t]*#[ \t]*include[ \t]*"[a-z0-9_]+\// {
      to = $0; sub(/^[^"]*"/, "", to); sub(/\/.*/, "", to)
      if ((from in known) && !((from, to) in allow)) {
        printf "%s:%d: %s -> %s\n", path, FNR, from, to; bad = 1
      }
    }
    END {
      if (!("core" in known)) { print "no rules read from docs/architecture.md"; exit 1 }
      exit bad
    }' root="$root" "$doc" $(cd "$root" && find src io cuda -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' \) | sort | sed "s|^|$root/|")
}

out=$(check_tree "$SRC") || { echo "$out" >&2; fail "includes break the rules of docs/architecture.md (above)"; }
pass "every include in src/, io/, cuda/ follows docs/architecture.md's table"

# The check can fail: a copy of the tree with core including io.
mkdir -p "$TMP/tree"
cp -r "$SRC/src" "$SRC/io" "$SRC/cuda" "$SRC/docs" "$TMP/tree/"
printf '#include "io/h5_util.h"\n' >>"$TMP/tree/src/core/log.c"
if out=$(check_tree "$TMP/tree"); then fail "a planted core -> io include was not caught"; fi
grep -q "src/core/log.c:[0-9]*: core -> io" <<<"$out" || { echo "$out" >&2; fail "planted include not named"; }
pass "a planted core -> io include is caught and named"
