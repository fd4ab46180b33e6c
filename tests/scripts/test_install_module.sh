#!/usr/bin/env bash
# test_install_module.sh — hpcml installed like cluster software and used only through
# the install:
#   - a copy of the source tree (no .git: the build must say "git unknown") is configured,
#     built and installed into a temporary prefix P with `cmake --install --prefix P`;
#     the copy and its build are then deleted, so nothing can run from them;
#   - P holds the programs (one per src/apps/*.c), their man pages, the Slurm scripts,
#     the configs, the docs and the Lua and Tcl modulefiles, and nothing else (no
#     library, headers or tests); no installed text file or RUNPATH names the copy;
#   - Debian's Lmod loads the Lua module (PATH, MANPATH, HPCML_ROOT; `man hpcml-etl`
#     finds the page; unload restores PATH), then the Tcl one; tclsh parses the Tcl file;
#   - on the real local Slurm, with the module loaded and HPCML_PREFIX unset:
#     P/share/hpcml/slurm/pipeline.sh --wait runs gen -> etl -> a 2-trial sweep array ->
#     final training on tiny data; `sbatch P/share/hpcml/slurm/train.sbatch CONFIG` runs
#     alone, and so does a copy of gen.sbatch outside P (lib.sh found via HPCML_ROOT);
#     every job log names P/bin's program and its version;
#   - no process of that CPU pipeline maps the CUDA plugin (LD_DEBUG=files of every
#     process); where the plugin was built, train.device = "auto" opens it from
#     P/lib/hpcml/, relative to the program, not from any build tree;
#   - the version in --version is in profile.json, the checkpoints and dataset.h5 /meta.
# labels: slurm install
# timeout: 900
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

# --- build and install from a copy of the source tree ---------------------------------------
t=$SECONDS
COPY=$TMP/src COPY_BUILD=$TMP/build P=$TMP/prefix
mkdir -p "$COPY"
if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
  # The files of the checkout (committed or not), without .git or ignored build outputs.
  git -C "$SRC" ls-files -z --cached --others --exclude-standard |
    (cd "$SRC" && xargs -0 cp --parents -t "$COPY" 2>/dev/null) || true
else
  tar -C "$SRC" --exclude=./build --exclude='./build-*' --exclude=./hpcml-out -cf - . | tar -C "$COPY" -xf -
fi
[[ -s $COPY/CMakeLists.txt && ! -e $COPY/.git ]] || fail "copying the source tree failed"
version=$(sed -n 's/^project(hpcml VERSION \([0-9.]*\).*/\1/p' "$COPY/CMakeLists.txt")
[[ -n $version ]] || fail "no project VERSION in CMakeLists.txt"
programs=()
for f in "$COPY"/src/apps/*.c; do programs+=("$(basename "$f" .c)"); done
cuda=(-DHPCML_CUDA=OFF)
if [[ -e $BUILD/lib/libhpcml_cuda.so ]]; then # this build has CUDA: so does the copy
  cuda=(-DHPCML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=80) # one architecture: a shorter build
fi
cmake -S "$COPY" -B "$COPY_BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF "${cuda[@]}" \
  >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log" >&2; fail "configure of the copy failed"; }
nice cmake --build "$COPY_BUILD" -j "$(nproc)" >"$TMP/build.log" 2>&1 ||
  { tail -40 "$TMP/build.log" >&2; fail "build of the copy failed"; }
cmake --install "$COPY_BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
have_plugin=0
[[ ${cuda[0]} == -DHPCML_CUDA=ON ]] && have_plugin=1
rm -rf "$COPY" "$COPY_BUILD"
pass "copy of the source tree built (${cuda[*]}), installed into $P, copy and build removed ($((SECONDS - t)) s)"

# --- what the prefix holds -----------------------------------------------------------------
got=$(cd "$P/bin" && ls | tr '\n' ' ')
want=$(printf '%s\n' "${programs[@]}" | sort | tr '\n' ' ')
[[ $got == "$want" ]] || fail "P/bin holds '$got', want the programs of src/apps: '$want'"
for prog in "${programs[@]}"; do
  [[ -s $P/share/man/man1/$prog.1 ]] || fail "no man page for $prog"
  out=$("$P/bin/$prog" --version) || fail "$prog --version failed"
  [[ $out == "$prog $version (git unknown)" ]] || fail "$prog --version: '$out' (built outside git: want '$prog $version (git unknown)')"
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
if grep -rlI -e "$TMP/src" -e "$TMP/build" "$P" >"$TMP/refs"; then fail "installed files name the source copy: $(cat "$TMP/refs")"; fi
for b in "$P"/bin/* "$P"/lib/hpcml/*.so; do
  [[ -e $b ]] || continue
  ! readelf -d "$b" | grep -E "R(UN)?PATH" | grep -q "$TMP" || fail "$b has a RUNPATH into the build: $(readelf -d "$b" | grep PATH)"
done
tclsh <<EOF || fail "tclsh: the Tcl modulefile is not complete Tcl"
set f [open {$P/share/hpcml/modulefiles-tcl/hpcml/$version}]
set text [read \$f]
if {![info complete \$text] || ![string match {#%Module*} \$text]} { exit 1 }
EOF
pass "prefix: ${#programs[@]} programs with man pages, Slurm scripts, configs, docs, Lua + Tcl modulefiles$( ((have_plugin)) && echo ", CUDA plugin in lib/hpcml"); nothing else; no path into the build"

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
source "$(dirname "$0")/slurm_lib.sh"
slurm_up 7600 8
W=$TMP/work
mkdir -p "$W/ld"
cd "$W" || fail "cd $W"
CFG=$P/share/hpcml/configs/demo.cfg
S=$P/share/hpcml/slurm
R=(-s gen.rows=4000 -s gen.shards=2 -s gen.positive_fraction=0.05 -s sweep.trials=2
  -s sweep.max_parallel=2 -s sweep.max_t=2 -s sweep.reduction_factor=2.0 -s train.epochs=2
  -s resources.retry_backoff_s=1)
t=$SECONDS
rc=0
# Every process of every job records which shared objects it loads.
LD_DEBUG=files LD_DEBUG_OUTPUT=$W/ld/ld HPCML_POLL_S=0.5 "$S/pipeline.sh" "$CFG" "${R[@]}" --wait \
  >pipe.out 2>pipe.err || rc=$?
((rc == 0)) || { cat pipe.err hpcml-out/slurm/* >&2; fail "installed pipeline.sh --wait exited $rc"; }
[[ $(awk '{print $1}' pipe.out | tr '\n' ' ') == "gen etl sweep train-final " ]] || fail "pipeline printed: $(cat pipe.out)"
$PY - <<'PY' || fail "pipeline outputs incomplete"
import json
e = json.load(open("hpcml-out/train/evaluation.json"))["test"]
assert e["rows"] > 0 and 0.0 <= e["auc"] <= 1.0, e
PY
for prog in gen etl sweep train; do
  grep -qs "program: $P/bin/hpcml-$prog (hpcml-$prog $version (git unknown))" hpcml-out/slurm/hpcml-$prog-*.out ||
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
$PY - "$version (git unknown)" <<'PY' || fail "version missing from an output file"
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
pass "profile.json, the checkpoints and dataset.h5 /meta record hpcml_version = '$version (git unknown)'"

# --- the plugin is opened from the install, relative to the program --------------------------------
if ((have_plugin)); then
  mkdir -p "$W/ld2"
  LD_DEBUG=files LD_DEBUG_OUTPUT=$W/ld2/ld "${MPIRUN[@]}" -np 1 hpcml-train -c "$CFG" "${R[@]}" -q \
    -s train.device=auto -s train.epochs=1 -s train.output_dir=auto >auto.out 2>&1 ||
    { cat auto.out >&2; fail "train.device=auto run failed"; }
  grep -qh "file=$P/lib/hpcml/libhpcml_cuda.so .*dynamically loaded by $P/bin/hpcml-train" "$W"/ld2/ld.* ||
    { grep -h "libhpcml_cuda" "$W"/ld2/ld.* | head -5 >&2; fail "train.device=auto did not open $P/lib/hpcml/libhpcml_cuda.so"; }
  pass "train.device=auto opens $P/lib/hpcml/libhpcml_cuda.so (relative to the installed program)"
else
  echo "note: built without CUDA: the plugin location was not exercised"
fi
pass "all in $((SECONDS - t_start)) s"
