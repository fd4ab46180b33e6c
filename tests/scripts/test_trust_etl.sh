#!/usr/bin/env bash
# Trust across runs of hpcml-etl and hpcml-gen (issue 19), real MPI, real files,
# real signals:
#   (2)  etl.output naming an input (the same path, ./ spelling, a symlink, a hard
#        link) or hpcml-gen's manifest: exit 1 before anything is read, input intact;
#   (9)  one input under two spellings (in/./a.csv, a symlink): read once, warned;
#   (6)  two ETL runs (2 ranks each) writing a.h5 and b.h5 into one folder at the
#        same time, 3 times: both exit 0, each output has its own quality.json /
#        profile.json / trace.json that parse and name it, no temp left;
#   (7)  quality.json is committed with the dataset (its dataset_bytes = the file's
#        size); a profile that cannot be written after the commit is a warning (exit
#        0), not an exit 3 beside a complete dataset;
#   (8)  SIGTERM / SIGUSR1 to the ranks while they write: exit 75, no temp left; a
#        SIGKILLed run's temps (dead pid, this host) are removed by the next run;
#        hpcml-gen likewise (SIGUSR1 while writing shards: no part-*.tmp.* left);
#   (10) hpcml-gen killed half-way beside a finished run's shards: the ETL refuses
#        the folder (exit 2), also with etl.check_manifest = "auto".
#   (13) etl.train_fraction = 0 and a null marker equal to a label text: exit 1 before
#        anything is written; single-class data: the ETL warns loudly, hpcml-train
#        (1 and 2 ranks) refuses it with exit 2;
#   (14) a config path that is a directory: exit 1 (not 3, which Slurm retries).
# Ranks: 1, 2 and 4 (mpirun --oversubscribe).
# labels: mpi etl fault
# timeout: 300
# ranks: 1, 2, 4
# options: configs written by the script; -s etl.check_manifest, etl.chunk_rows, etl.columns,
#   etl.input, etl.null_markers, etl.output, etl.split_seed, etl.train_fraction,
#   gen.output_dir, gen.rows, gen.seed, gen.shards, train.dataset, train.epochs,
#   train.output_dir
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl
gen=$BIN/hpcml-gen
IN=$TMP/in
mkdir -p "$IN" "$TMP/res"
$PY - "$IN" <<'PYEOF'
import os, random, sys
random.seed(4)
with open(os.path.join(sys.argv[1], "good.csv"), "w") as f:
    f.write("id,x,n,cat,Class\n")
    for i in range(4000):
        f.write(f"{i},{random.uniform(-5, 5):.5f},{random.randint(0, 99)},c{i % 5},{i % 2}\n")
PYEOF
cat >"$TMP/etl.cfg" <<'CFG'
etl = {
  label = "Class";
  columns = (
    { name = "id"; type = "id"; },
    { name = "x"; type = "float"; },
    { name = "n"; type = "int"; },
    { name = "cat"; type = "category"; },
    { name = "Class"; type = "label"; }
  );
};
CFG
np1=("${MPIRUN[@]}" -np 1)
np2=("${MPIRUN[@]}" -np 2)
np4=("${MPIRUN[@]}" -np 4)
run_etl() { "$etl" -c "$TMP/etl.cfg" "$@"; }

# --- (2) an output that is an input --------------------------------------------------
sum=$(md5sum <"$IN/good.csv")
ln -s good.csv "$IN/link.csv"
ln "$IN/good.csv" "$IN/hard.csv"
for out in "$IN/good.csv" "$IN/./good.csv" "$IN/link.csv" "$IN/hard.csv"; do
  expect_exit 1 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
    -s "etl.output=$out"
  grep -q "etl.output $out is the same file as $IN/good.csv (an input of etl.input): refusing" "$TMP/err" ||
    { cat "$TMP/err"; fail "(2) output $out: message"; }
  [[ $(md5sum <"$IN/good.csv") == "$sum" ]] || fail "(2) output $out: the input changed"
done
pass "(2) etl.output = an input (path, ./, symlink, hard link): exit 1, input intact"

# --- (9) one file under two names is one input ------------------------------------------
expect_exit 0 "${np2[@]}" "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
  -s "etl.output=$TMP/res/one.h5"
expect_exit 0 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" \
  -s "etl.input=[\"$IN/good.csv\", \"$IN/./good.csv\", \"$IN/link.csv\", \"$IN/hard.csv\"]" \
  -s "etl.output=$TMP/res/four.h5"
[[ $(grep -c "is the same file as $IN/good.csv: read once" "$TMP/err") -eq 3 ]] ||
  { cat "$TMP/err"; fail "(9) no warning per duplicate name"; }
h5diff -q "$TMP/res/one.h5" "$TMP/res/four.h5" /train /train || fail "(9) rows read more than once"
pass "(9) the same file under 4 names: read once, 3 warnings, the same dataset"

# --- (6)(7) two outputs in one folder at the same time -----------------------------------
for i in 1 2 3; do
  rm -rf "$TMP/pair"
  mkdir -p "$TMP/pair"
  "${np2[@]}" "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
    -s "etl.output=$TMP/pair/a.h5" >"$TMP/a.log" 2>&1 &
  a=$!
  "${np2[@]}" "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" -s etl.split_seed=9 \
    -s "etl.output=$TMP/pair/b.h5" >"$TMP/b.log" 2>&1 &
  b=$!
  ra=0 rb=0
  wait $a || ra=$?
  wait $b || rb=$?
  ((ra == 0 && rb == 0)) || { cat "$TMP/a.log" "$TMP/b.log"; fail "(6) pair $i: exits $ra $rb"; }
  ls "$TMP/pair" | grep -q '\.tmp\.' && fail "(6) pair $i: temp files left: $(ls "$TMP/pair")"
  $PY - "$TMP/pair" <<'PYEOF' || fail "(6)(7) pair $i: side files"
import json, os, sys
d = sys.argv[1]
for s in ("a", "b"):
    q = json.load(open(f"{d}/{s}.quality.json"))
    assert q["output"].endswith(f"/{s}.h5"), q["output"]
    assert q["dataset_bytes"] == os.path.getsize(f"{d}/{s}.h5"), "quality.json describes another file"
    p = json.load(open(f"{d}/{s}.profile.json"))
    assert p["trace"]["file"] == f"{s}.trace.json", p["trace"]
    json.load(open(f"{d}/{s}.trace.json"))
assert not os.path.exists(f"{d}/quality.json") and not os.path.exists(f"{d}/trace.json")
PYEOF
done
pass "(6)(7) two ETL runs into one folder, 3 times: both exit 0, own quality/profile/trace each, no temp"

mkdir -p "$TMP/prof/d.profile.json" # a directory: the profile cannot be renamed over it
expect_exit 0 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
  -s "etl.output=$TMP/prof/d.h5"
grep -q "is complete, but its profile could not be written" "$TMP/err" || { cat "$TMP/err"; fail "(7) no warning"; }
[[ -f $TMP/prof/d.h5 && -f $TMP/prof/d.quality.json ]] || fail "(7) dataset or quality.json missing"
pass "(7) a side file failing after the commit: warning, exit 0, dataset + quality.json complete"

# --- (8) signals and stale temps ------------------------------------------------------------
$PY - "$IN" <<'PYEOF'
import os, random, sys
random.seed(5)
with open(os.path.join(sys.argv[1], "big.csv"), "w") as f:
    f.write("id,x,n,cat,Class\n")
    for i in range(300000):
        f.write(f"{i},{random.uniform(-5, 5):.5f},{random.randint(0, 99)},c{i % 5},{i % 2}\n")
PYEOF
for sig in TERM USR1; do
  for np in 1 4; do
    out=$TMP/sig_$sig$np
    mkdir -p "$out"
    # the ranks wait at etl.write (HPCML_PAUSE, core/preempt.h) until the signal comes
    HPCML_PAUSE=etl.write "${MPIRUN[@]}" -np $np "$etl" -q -c "$TMP/etl.cfg" \
      -s "etl.input=[\"$IN/big.csv\"]" -s "etl.output=$out/d.h5" -s etl.chunk_rows=1000 \
      >"$TMP/sig.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 1200; i++)); do # until every rank waits at the write: the temp exists
      (($(grep -c "hpcml: paused at etl.write" "$TMP/sig.log" || true) >= np)) && break
      kill -0 $pid 2>/dev/null || { cat "$TMP/sig.log"; fail "(8) ended before etl.write"; }
      sleep 0.1
    done
    ls "$out" | grep -q '^d\.h5\.tmp\.' || fail "(8) no dataset temp at etl.write"
    # shellcheck disable=SC2046
    kill -$sig $(pgrep -P $pid) 2>/dev/null || true
    rc=0
    wait $pid || rc=$?
    ((rc == 75)) || { cat "$TMP/sig.log"; fail "(8) SIG$sig np $np: exit $rc, expected 75"; }
    [[ ! -e $out/d.h5 ]] || fail "(8) SIG$sig np $np: d.h5 was committed"
    left=$(ls "$out" | grep '\.tmp\.' || true)
    [[ -z $left ]] || fail "(8) SIG$sig np $np: temp files left: $left"
  done
done
pass "(8) SIGTERM / SIGUSR1 to the ranks during the write (1 and 4 ranks): exit 75, no temp left"

# a SIGKILLed run's temp: removed by the next run (dead pid on this host), a live one's kept
out=$TMP/killed
mkdir -p "$out"
sleep 300 &
alive=$!
bash -c 'exit 0' &
dead=$!
wait $dead
host=$(hostname)
head -c 100000 /dev/zero >"$out/d.h5.tmp.$host.$dead"
echo x >"$out/d.quality.json.tmp.$host.$dead"
echo x >"$out/d.h5.tmp.$host.$alive"
echo x >"$out/d.h5.tmp.node-elsewhere.$dead"
expect_exit 0 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
  -s "etl.output=$out/d.h5"
kill $alive
[[ ! -e $out/d.h5.tmp.$host.$dead && ! -e $out/d.quality.json.tmp.$host.$dead ]] ||
  fail "(8) a dead owner's temps were not removed"
[[ -e $out/d.h5.tmp.$host.$alive && -e $out/d.h5.tmp.node-elsewhere.$dead ]] ||
  fail "(8) a live or remote owner's temp was removed"
grep -q "removed $out/d.h5.tmp.$host.$dead: a temp file of process $dead, which no longer runs" "$TMP/err" ||
  { cat "$TMP/err"; fail "(8) no warning for the removed temp"; }
pass "(8) temps of dead owners on this host removed at start, live and remote ones kept"

# hpcml-gen: SIGUSR1 while writing shards, then (10) its half-written folder is refused
G=$TMP/gen
gcommon=(-q -s gen.rows=400000 -s gen.shards=8 -s gen.seed=3)
expect_exit 0 "${np2[@]}" "$gen" "${gcommon[@]}" -s "gen.output_dir=$G"
"${np2[@]}" "$gen" "${gcommon[@]}" -s gen.seed=4 -s "gen.output_dir=$G" >"$TMP/gen.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  ls "$G" | grep -q '\.tmp\.' && break
  sleep 0.02
done
ranks=$(pgrep -P $pid | tr '\n' ' ')
# shellcheck disable=SC2086
kill -USR1 $ranks 2>/dev/null || true
rc=0
wait $pid || rc=$?
((rc == 75)) || { cat "$TMP/gen.log"; fail "(8) hpcml-gen SIGUSR1: exit $rc, expected 75"; }
# A rank that handled the signal removed its temps. One that mpirun killed (SIGKILL,
# right after the first rank's exit) before its handler ran cannot: its temps are a
# dead owner's, which the next run removes (checked after the re-run below).
# mpirun may return while it still tears the other rank down: look once the ranks are gone.
for _ in $(seq 1 100); do
  alive=0
  for r in $ranks; do kill -0 "$r" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 0.1
done
((alive == 0)) || fail "(8) a rank of the signalled hpcml-gen outlived it by 10 s"
for f in $(ls "$G" | grep '\.tmp\.' || true); do
  owner=${f##*.}
  ! kill -0 "$owner" 2>/dev/null || fail "(8) hpcml-gen: temp $f of a live process"
done
pass "(8) hpcml-gen: SIGUSR1 while writing: exit 75, no temp of a live process left"
[[ ! -e $G/manifest.json && -e $G/hpcml-gen.running ]] || fail "(10) expected no manifest and the running mark"
for mode in auto require; do
  expect_exit 2 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$G/*.csv\"]" \
    -s 'etl.columns=({name="Class";type="label";})' -s "etl.check_manifest=\"$mode\"" \
    -s "etl.output=$TMP/res/mixed.h5"
  grep -q "the hpcml-gen run that wrote $G did not finish" "$TMP/err" ||
    { cat "$TMP/err"; fail "(10) $mode: message"; }
  [[ ! -e $TMP/res/mixed.h5 ]] || fail "(10) $mode: output written"
done
expect_exit 0 "${np4[@]}" "$gen" "${gcommon[@]}" -s "gen.output_dir=$G"
[[ -e $G/manifest.json && ! -e $G/hpcml-gen.running ]] || fail "(10) the re-run left the mark"
left=$(ls "$G" | grep '\.tmp\.' || true)
[[ -z $left ]] || fail "(8) hpcml-gen: the re-run left temps of dead owners: $left"
expect_exit 0 "${np1[@]}" "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$G/*.csv\"]" \
  -s 'etl.columns=({name="Class";type="label";})' -s "etl.output=$TMP/res/gen.h5"
pass "(10) a killed hpcml-gen's folder (new shards beside old): refused (exit 2) in auto and require; a finished re-run is accepted"

# --- (13) degenerate splits and labels ---------------------------------------------------------
expect_exit 1 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" -s etl.train_fraction=0 \
  -s "etl.output=$TMP/res/tf0.h5"
grep -q "etl.train_fraction = 0 leaves the train split empty" "$TMP/err" || { cat "$TMP/err"; fail "(13) train_fraction = 0"; }
expect_exit 1 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/good.csv\"]" \
  -s 'etl.null_markers=["", "NA", "1"]' -s "etl.output=$TMP/res/nm.h5"
grep -q 'etl.null_markers contains "1", which is also a label text' "$TMP/err" || { cat "$TMP/err"; fail "(13) null marker = label"; }
[[ ! -e $TMP/res/tf0.h5 && ! -e $TMP/res/nm.h5 ]] || fail "(13) output written"
$PY - "$IN/one_class.csv" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,x,n,cat,Class\n")
    for i in range(2000):
        f.write(f"{i},{i * 0.001:.4f},{i % 50},c{i % 3},0\n")
PYEOF
expect_exit 0 "${np2[@]}" "$etl" -c "$TMP/etl.cfg" -s "etl.input=[\"$IN/one_class.csv\"]" \
  -s "etl.output=$TMP/res/one.h5"
grep -q "WARNING: no valid row has class 1 (etl.positive_labels): all 2000 rows are class 0" "$TMP/err" ||
  { cat "$TMP/err"; fail "(13) single class: no ETL warning"; }
for np in 1 2; do
  expect_exit 2 "${MPIRUN[@]}" -np $np "$BIN/hpcml-train" -q -s "train.dataset=$TMP/res/one.h5" \
    -s "train.output_dir=$TMP/res/one_train$np" -s train.epochs=1
  grep -q "every /train row has label 0: a classifier cannot be trained on one class" "$TMP/err" ||
    { cat "$TMP/err"; fail "(13) single class: hpcml-train (np $np)"; }
done
pass "(13) train_fraction = 0 and null marker = label: exit 1, nothing written; one class: ETL warns, training exit 2"

expect_exit 1 "$etl" -c "$TMP" -s "etl.output=$TMP/res/x.h5"
grep -q "config file $TMP is a directory" "$TMP/err" || { cat "$TMP/err"; fail "(14) config directory"; }
pass "(14) a config path that is a directory: exit 1"
