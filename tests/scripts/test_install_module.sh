#!/usr/bin/env bash
# test_install_module.sh — hpcml installed like cluster software and used only through
# the install:
#   - `cmake --install BUILD --prefix P` into a temporary prefix. Phase 2 below then runs
#     in a private mount namespace with an empty tmpfs over the source tree (and the
#     build tree in it): nothing of either can be read. Where mount namespaces are not
#     allowed, a copy of the source tree is built and installed instead and then deleted;
#   - P holds the programs (one per src/apps/*.c), their man pages, the Slurm scripts,
#     the configs, the docs and the Lua and Tcl modulefiles, and nothing else (no
#     library, headers or tests); no installed text file or RUNPATH names either tree;
#     --version prints the release and the build's commit; the commit script says
#     "unknown" outside git and takes -DHPCML_GIT_COMMIT;
#   - Debian's Lmod loads the Lua module (PATH, MANPATH, HPCML_ROOT; `man hpcml-etl`
#     finds the page; unload restores PATH), then the Tcl one; tclsh parses the Tcl file;
#   - on the real local Slurm, with the module loaded and HPCML_PREFIX unset:
#     P/share/hpcml/slurm/pipeline.sh --wait runs gen -> etl -> a 2-trial sweep array ->
#     final training on tiny data; `sbatch P/share/hpcml/slurm/train.sbatch CONFIG` runs
#     alone, and so does a copy of gen.sbatch outside P (lib.sh found via HPCML_ROOT);
#     every job log names P/bin's program and its version;
#   - no process of that CPU pipeline maps the CUDA plugin (LD_DEBUG=files of every
#     process); where the plugin was built, train.device = "auto" opens it from
#     P/lib/hpcml/, relative to the program, not from the build tree;
#   - the version of --version is in profile.json, the checkpoints and dataset.h5 /meta.
# labels: slurm install
# timeout: 900
# ranks: 1 (mpirun), Slurm jobs of slurm/*.sbatch on a one-node local Slurm
# options: configs/demo.cfg; -s gen.output_dir, gen.positive_fraction, gen.rows, gen.shards,
#   resources.log_dir, resources.retry_backoff_s, sweep.max_parallel, sweep.max_t,
#   sweep.reduction_factor, sweep.trials, train.device, train.epochs, train.output_dir
# skips (exit 77): not root (the local Slurm runs its daemons as root)
# Usage: bash test_install_module.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the local Slurm runs its daemons as root"
  exit 77
fi
for p in cmake git tclsh man; do command -v "$p" >/dev/null || fail "$p missing: run scripts/setup.sh --test"; done
LMOD_INIT=/usr/share/lmod/lmod/init/bash
[[ -r $LMOD_INIT ]] || fail "Lmod missing ($LMOD_INIT): run scripts/setup.sh --test"
t_start=$SECONDS

source "$(dirname "$0")/slurm_lib.sh"

# phase2: everything that runs the install, with SRC out of reach where possible.
phase2() {
  if [[ -n ${HPCML_INSTALL_HIDDEN:-} ]]; then
    [[ ! -e $HPCML_INSTALL_HIDDEN/CMakeLists.txt ]] || fail "the source tree is still visible"
    pass "phase 2: $HPCML_INSTALL_HIDDEN is an empty tmpfs in this mount namespace (source and build out of reach)"
  fi
# --- Lmod: load, man, unload; then the Tcl modulefile -------------------------------------------
unset HPCML_PREFIX HPCML_ROOT MANPATH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin # no build tree on it
set +eu
# shellcheck source=/dev/null
source "$LMOD_INIT"
module use "$P/share/hpcml/modulefiles"
module load hpcml
loaded=$?
set -eu
((loaded == 0)) || fail "module load hpcml failed"
[[ ${HPCML_ROOT:-} == "$P" ]] || fail "HPCML_ROOT='${HPCML_ROOT:-}', want $P"
[[ $(command -v hpcml-etl) == "$P/bin/hpcml-etl" ]] || fail "hpcml-etl on PATH is $(command -v hpcml-etl)"
page=$(man -w hpcml-etl) || fail "man -w hpcml-etl found nothing (MANPATH=$MANPATH)"
[[ $page == "$P/share/man/man1/hpcml-etl.1" ]] || fail "man hpcml-etl found $page"
text=$(MANWIDTH=100 man -P cat hpcml-etl 2>/dev/null) || fail "man hpcml-etl failed"
for s in NAME SYNOPSIS OPTIONS "EXIT STATUS" FILES; do grep -q "^$s" <<<"$text" || fail "man hpcml-etl lacks $s"; done
grep -q -- "--infer-schema" <<<"$text" || fail "man hpcml-etl lacks its own option --infer-schema"
man -w ls >/dev/null 2>&1 || ! [[ -e /usr/share/man/man1/ls.1.gz ]] || fail "with the module loaded man no longer finds system pages (MANPATH=$MANPATH)"
what=$(module whatis hpcml 2>&1)
grep -q "MPI: " <<<"$what" && grep -q "HDF5: parallel HDF5" <<<"$what" || fail "module whatis lacks MPI/HDF5: $what"
set +eu
module unload hpcml
set -eu
[[ :$PATH: != *":$P/bin:"* && -z ${HPCML_ROOT:-} ]] || fail "module unload left PATH=$PATH HPCML_ROOT=${HPCML_ROOT:-}"
set +eu
module unuse "$P/share/hpcml/modulefiles"
module use "$P/share/hpcml/modulefiles-tcl"
module load hpcml
loaded=$?
set -eu
((loaded == 0)) && [[ ${HPCML_ROOT:-} == "$P" && $(command -v hpcml-train) == "$P/bin/hpcml-train" ]] ||
  fail "the Tcl modulefile did not load (HPCML_ROOT=${HPCML_ROOT:-})"
[[ $(man -w hpcml-train) == "$P/share/man/man1/hpcml-train.1" ]] || fail "Tcl module: man hpcml-train not found"
pass "Lmod loads hpcml/$version (Lua: PATH, MANPATH, HPCML_ROOT, man hpcml-etl, unload) and the Tcl modulefile"

# --- the whole pipeline on the real local Slurm, from the install only ---------------------------
slurm_up 7600 8
W=$TMP/work
mkdir -p "$W/ld"
cd "$W" || fail "cd $W"
CFG=$P/share/hpcml/configs/demo.cfg
S=$P/share/hpcml/slurm
R=(-s gen.rows=4000 -s gen.shards=2 -s gen.positive_fraction=0.05 -s sweep.trials=2
  -s sweep.max_parallel=2 -s sweep.max_t=3 -s sweep.reduction_factor=2.0 -s train.epochs=3
  -s resources.retry_backoff_s=1)
t=$SECONDS
rc=0
# Every process of every job records which shared objects it loads.
LD_DEBUG=files LD_DEBUG_OUTPUT=$W/ld/ld HPCML_POLL_S=0.5 "$S/pipeline.sh" "$CFG" "${R[@]}" --wait \
  >pipe.out 2>pipe.err || rc=$?
((rc == 0)) || { cat pipe.err hpcml-out/slurm/* >&2; fail "installed pipeline.sh --wait exited $rc"; }
[[ $(awk '{print $1}' pipe.out | tr '\n' ' ') == "gen etl sweep train-final report " ]] || fail "pipeline printed: $(cat pipe.out)"
$PY - <<'PY' || fail "pipeline outputs incomplete"
import json
e = json.load(open("hpcml-out/train/evaluation.json"))["test"]
assert e["rows"] > 0 and 0.0 <= e["auc"] <= 1.0, e
PY
for prog in gen etl sweep train; do
  grep -qsF "program: $P/bin/hpcml-$prog (hpcml-$prog $want_version)" hpcml-out/slurm/hpcml-$prog-*.out ||
    { cat hpcml-out/slurm/hpcml-$prog-*.out >&2; fail "the hpcml-$prog job did not run $P/bin/hpcml-$prog"; }
done
pass "installed pipeline.sh --wait on Slurm: gen -> etl -> 2-trial sweep array -> final training, programs from $P/bin ($((SECONDS - t)) s)"

# CPU run: the training ranks (and every other process) mapped no CUDA plugin.
traced=$(grep -l "needed by $P/bin/hpcml-train" "$W"/ld/ld.* | wc -l)
((traced >= 2)) || fail "LD_DEBUG traced $traced hpcml-train processes (want the sweep's and the final training's)"
if grep -l "libhpcml_cuda" "$W"/ld/ld.* >"$TMP/cuda_hits"; then
  fail "a CPU pipeline process loaded the CUDA plugin: $(head -3 "$TMP/cuda_hits")"
fi
pass "CPU pipeline: $traced hpcml-train processes traced, none loaded libhpcml_cuda.so"

# The issue's command: sbatch P/share/hpcml/slurm/train.sbatch CONFIG (lib.sh through
# scontrol's Command=); then a copy of gen.sbatch outside P (lib.sh through HPCML_ROOT).
run_job -o "$W/solo-%j.out" "$S/train.sbatch" "$CFG" "${R[@]}" -s train.output_dir=solo -s resources.log_dir=solo-logs
[[ $st == COMPLETED && $rc -eq 0 && -s solo/evaluation.json ]] ||
  { cat "$W"/solo-*.out >&2; fail "sbatch $S/train.sbatch: $st, exit $rc"; }
cp "$S/gen.sbatch" "$W/my-gen.sbatch"
run_job -o "$W/mine-%j.out" "$W/my-gen.sbatch" "$CFG" "${R[@]}" -s gen.output_dir=mine -s resources.log_dir=mine-logs
[[ $st == COMPLETED && $rc -eq 0 && -s mine/manifest.json ]] ||
  { cat "$W"/mine-*.out >&2; fail "a copy of gen.sbatch: $st, exit $rc"; }
pass "sbatch $S/train.sbatch CONFIG alone, and a copy of gen.sbatch outside the prefix (HPCML_ROOT)"

# --- the version in the outputs ------------------------------------------------------------------
$PY - "$want_version" <<'PY' || fail "version missing from an output file"
import glob, json, sys
import h5py
want = sys.argv[1]
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
p = json.load(open("solo/profile.json"))
assert p["hpcml_version"] == want, p.get("hpcml_version")
with h5py.File("hpcml-out/dataset.h5", "r") as f:
    assert s(f["meta"].attrs["hpcml_version"]) == want, dict(f["meta"].attrs)
ck = sorted(glob.glob("solo/checkpoints/*.h5"))
assert ck, "no checkpoint"
with h5py.File(ck[-1], "r") as f:
    assert s(f.attrs["hpcml_version"]) == want, dict(f.attrs)
PY
pass "profile.json, the checkpoints and dataset.h5 /meta record hpcml_version = '$want_version'"

# --- the plugin is opened from the install, relative to the program --------------------------------
if ((have_plugin)); then
  mkdir -p "$W/ld2"
  LD_DEBUG=files LD_DEBUG_OUTPUT=$W/ld2/ld "${MPIRUN[@]}" -np 1 hpcml-train -c "$CFG" "${R[@]}" -q \
    -s train.device=auto -s train.epochs=1 -s train.output_dir=auto >auto.out 2>&1 ||
    { cat auto.out >&2; fail "train.device=auto run failed"; }
  grep -qhF "file=$P/bin/../lib/hpcml/libhpcml_cuda.so [0];  dynamically loaded by hpcml-train" "$W"/ld2/ld.* ||
    { grep -h "libhpcml_cuda" "$W"/ld2/ld.* | head -5 >&2; fail "train.device=auto did not open $P/lib/hpcml/libhpcml_cuda.so"; }
  pass "train.device=auto opens $P/lib/hpcml/libhpcml_cuda.so (relative to the installed program)"
else
  echo "note: built without CUDA: the plugin location was not exercised"
fi
}

# Phase 2 (below) runs the install with the source and build trees out of reach: in a
# private mount namespace with an empty tmpfs over SRC (the build tree is inside it or
# hidden too), started by phase 1 with a copy of the test's own helpers.
if [[ ${HPCML_INSTALL_PHASE2:-} == 1 ]]; then
  P=$HPCML_INSTALL_P version=$HPCML_INSTALL_VERSION want_version=$HPCML_INSTALL_WANT
  have_plugin=$HPCML_INSTALL_PLUGIN
  phase2
  exit 0
fi

# --- install ---------------------------------------------------------------------------------
t=$SECONDS
P=$TMP/prefix
version=$(sed -n 's/^project(hpcml VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[[ -n $version ]] || fail "no project VERSION in CMakeLists.txt"
programs=()
for f in "$SRC"/src/apps/*.c; do programs+=("$(basename "$f" .c)"); done
have_plugin=0
if unshare -m true 2>/dev/null; then
  # The build under test, installed; its trees are hidden from phase 2.
  hide=1
  for prog in "${programs[@]}"; do
    [[ -x $BUILD/bin/$prog && -s $BUILD/man/man1/$prog.1 ]] || fail "$prog or its man page not built in $BUILD"
  done
  cmake --install "$BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
  [[ -e $BUILD/lib/libhpcml_cuda.so ]] && have_plugin=1
  commit=$(sed -n 's/.*HPCML_GIT_COMMIT "\(.*\)".*/\1/p' "$BUILD/generated/hpcml_git_commit.h")
  how="cmake --install $BUILD; in phase 2 an empty tmpfs covers $SRC"
else
  # No mount namespace (a container without CAP_SYS_ADMIN): build a copy of the source
  # tree (no .git), install it, delete the copy and its build. Slower.
  hide=0
  COPY=$TMP/src COPY_BUILD=$TMP/build
  mkdir -p "$COPY"
  if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
    git -C "$SRC" ls-files -z --cached --others --exclude-standard |
      (cd "$SRC" && xargs -0 cp --parents -t "$COPY" 2>/dev/null) || true
  else
    tar -C "$SRC" --exclude=./build --exclude='./build-*' --exclude=./hpcml-out -cf - . | tar -C "$COPY" -xf -
  fi
  [[ -s $COPY/CMakeLists.txt && ! -e $COPY/.git ]] || fail "copying the source tree failed"
  cuda=(-DHPCML_CUDA=OFF)
  if [[ -e $BUILD/lib/libhpcml_cuda.so ]]; then # this build has CUDA: so does the copy
    cuda=(-DHPCML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=80) # one architecture: a shorter build
    have_plugin=1
  fi
  cmake -S "$COPY" -B "$COPY_BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF "${cuda[@]}" \
    >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log" >&2; fail "configure of the copy failed"; }
  nice cmake --build "$COPY_BUILD" -j "$(nproc)" >"$TMP/build.log" 2>&1 ||
    { tail -40 "$TMP/build.log" >&2; fail "build of the copy failed"; }
  cmake --install "$COPY_BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
  rm -rf "$COPY" "$COPY_BUILD"
  commit=unknown # built outside git
  how="a copy of the source tree (${cuda[*]}), copy and build removed"
fi
want_version="$version (git $commit)"
pass "installed into $P from $how ($((SECONDS - t)) s)"

# The commit script itself: outside git "unknown"; an override wins; in a checkout, HEAD.
gc=$SRC/cmake/hpcml_git_commit.cmake
mkdir -p "$TMP/nogit"
cmake -DSRC="$TMP/nogit" -DOUT="$TMP/gc.h" -P "$gc" && grep -q 'HPCML_GIT_COMMIT "unknown"' "$TMP/gc.h" ||
  fail "outside git the commit is not 'unknown': $(cat "$TMP/gc.h")"
cmake -DSRC="$TMP/nogit" -DOUT="$TMP/gc.h" -DOVERRIDE=0123abcd4567 -P "$gc" &&
  grep -q 'HPCML_GIT_COMMIT "0123abcd4567"' "$TMP/gc.h" || fail "-DHPCML_GIT_COMMIT is not used"
if head=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null); then
  cmake -DSRC="$SRC" -DOUT="$TMP/gc.h" -P "$gc" && grep -Eq "HPCML_GIT_COMMIT \"$head(-dirty)?\"" "$TMP/gc.h" ||
    fail "in the checkout the commit is not $head: $(cat "$TMP/gc.h")"
fi
pass "git commit script: HEAD in a checkout, 'unknown' outside git, -DHPCML_GIT_COMMIT wins"

# --- what the prefix holds -----------------------------------------------------------------
got=$(cd "$P/bin" && ls | tr '\n' ' ')
want=$(printf '%s\n' "${programs[@]}" | sort | tr '\n' ' ')
[[ $got == "$want" ]] || fail "P/bin holds '$got', want the programs of src/apps: '$want'"
for prog in "${programs[@]}"; do
  [[ -s $P/share/man/man1/$prog.1 ]] || fail "no man page for $prog"
  out=$("$P/bin/$prog" --version) || fail "$prog --version failed"
  [[ $out == "$prog $want_version" ]] || fail "$prog --version: '$out', want '$prog $want_version'"
done
for f in share/hpcml/slurm/{lib.sh,install-paths.sh} share/hpcml/configs/demo.cfg \
  share/doc/hpcml/README.md share/doc/hpcml/docs/slurm.md \
  "share/hpcml/modulefiles/hpcml/$version.lua" "share/hpcml/modulefiles-tcl/hpcml/$version"; do
  [[ -s $P/$f ]] || fail "not installed: $f"
done
for f in gen etl sweep train; do [[ -x $P/share/hpcml/slurm/$f.sbatch ]] || fail "$f.sbatch not installed executable"; done
[[ -x $P/share/hpcml/slurm/pipeline.sh ]] || fail "pipeline.sh not installed executable"
extra=$(cd "$P" && find . -type f ! -path './bin/*' ! -path './share/hpcml/*' ! -path './share/doc/hpcml/*' \
  ! -path './share/man/man1/hpcml-*.1' ! -path './lib/hpcml/libhpcml_cuda.so')
[[ -z $extra ]] || fail "installed beyond what a user needs: $extra"
if ((have_plugin)); then
  [[ -s $P/lib/hpcml/libhpcml_cuda.so ]] || fail "CUDA was built but the plugin is not in P/lib/hpcml"
else
  [[ ! -e $P/lib ]] || fail "no CUDA build, yet P/lib exists"
fi
# No installed text names the (deleted) copy; binaries record no RUNPATH into it.
# (Binaries keep __FILE__ strings for error locations; what they load is checked below.)
trees=(-e "$SRC/" -e "$BUILD/" -e "$TMP/src/" -e "$TMP/build/")
if grep -rlI "${trees[@]}" "$P" >"$TMP/refs"; then fail "installed files name the source or build tree: $(cat "$TMP/refs")"; fi
for b in "$P"/bin/* "$P"/lib/hpcml/*.so; do
  [[ -e $b ]] || continue
  ! readelf -d "$b" | grep -E "R(UN)?PATH" | grep -q "${trees[@]}" || fail "$b has a RUNPATH into the build: $(readelf -d "$b" | grep PATH)"
done
tclsh <<EOF || fail "tclsh: the Tcl modulefile is not complete Tcl"
set f [open {$P/share/hpcml/modulefiles-tcl/hpcml/$version}]
set text [read \$f]
if {![info complete \$text] || ![string match {#%Module*} \$text]} { exit 1 }
EOF
pass "prefix: ${#programs[@]} programs with man pages, Slurm scripts, configs, docs, Lua + Tcl modulefiles$( ((have_plugin)) && echo ", CUDA plugin in lib/hpcml"); nothing else; no path into the build"

# The site options of the generated modulefiles (HPCML_MODULE_DEPENDS and an
# LD_LIBRARY_PATH for builds without RPATH), rendered by the install step's own script
# with those set, and loaded by Lmod: the site module comes first, the order is kept.
M=$TMP/mtest
mkdir -p "$M/mods/sitempi"
echo 'setenv("SITE_MPI_LOADED", "1")' >"$M/mods/sitempi/1.0.lua"
sed -e 's|^set(HPCML_M_DEPENDS .*|set(HPCML_M_DEPENDS [==[sitempi/1.0]==])|' \
  -e 's|^set(HPCML_M_LD_PATH .*|set(HPCML_M_LD_PATH [==[/opt/a/lib;/opt/b/lib]==])|' \
  "$BUILD/hpcml_module_vars.cmake" >"$M/vars.cmake"
printf 'include(%s)\ninclude(%s)\n' "$M/vars.cmake" "$SRC/cmake/hpcml_modulefiles.cmake" >"$M/run.cmake"
cmake -DCMAKE_INSTALL_PREFIX="$M/p" -P "$M/run.cmake" >/dev/null || fail "rendering the modulefiles with site options failed"
for kind in modulefiles modulefiles-tcl; do
  got=$(env -u LD_LIBRARY_PATH -u SITE_MPI_LOADED bash -c 'source "$1"; module use "$2"; module use "$3"; module load hpcml >/dev/null 2>&1
    echo "${SITE_MPI_LOADED:-no} ${LD_LIBRARY_PATH:-}"' _ "$LMOD_INIT" "$M/mods" "$M/p/share/hpcml/$kind")
  [[ $got == "1 /opt/a/lib:/opt/b/lib" ]] || fail "$kind with HPCML_MODULE_DEPENDS/LD_LIBRARY_PATH: got '$got'"
done
pass "modulefiles with site options: the site's MPI module loaded first, LD_LIBRARY_PATH in the order given (Lua and Tcl)"

# --- phase 2: Lmod, the pipeline on Slurm, the plugin, the version in the outputs ------------
# Its helpers are copied first: the tmpfs hides the originals.
INFRA=$TMP/infra
mkdir -p "$INFRA/slurm" "$INFRA/tests/scripts"
cp -r "$SRC/slurm/local" "$INFRA/slurm/"
cp "$SRC"/tests/scripts/{lib.sh,slurm_lib.sh,test_install_module.sh} "$INFRA/tests/scripts/"
export HPCML_INSTALL_PHASE2=1 HPCML_INSTALL_P=$P HPCML_INSTALL_VERSION=$version
export HPCML_INSTALL_WANT=$want_version HPCML_INSTALL_PLUGIN=$have_plugin
rc=0
if ((hide)); then
  HPCML_INSTALL_HIDDEN=$SRC unshare -m --propagation private bash -c '
    mount -t tmpfs -o size=1m,mode=0755 hpcml-hidden "$1" || exit 1
    if [[ $2 != "$1"/* ]]; then mount -t tmpfs -o size=1m,mode=0755 hpcml-hidden "$2" || exit 1; fi
    exec bash "$3/tests/scripts/test_install_module.sh" "$3" "$3"' _ "$SRC" "$BUILD" "$INFRA" || rc=$?
else
  bash "$INFRA/tests/scripts/test_install_module.sh" "$INFRA" "$INFRA" || rc=$?
fi
((rc == 0)) || fail "phase 2 failed (exit $rc)"
pass "all in $((SECONDS - t_start)) s"
