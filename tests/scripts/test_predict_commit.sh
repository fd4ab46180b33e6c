#!/usr/bin/env bash
# hpcml-predict's output set on real MPI and real files, when a run fails or
# is stopped: (c1) a run that fails after every file is staged (a fault point
# before the commit) leaves the previous run's set as it was, byte for byte
# and untouched (mtime), and none of its own files or temps; (c2) the same
# on a full file system (a tmpfs sized between the previous set and the new
# one; root only); (c3) a model renamed over predict.model right after rank
# 0 read it does not change the output (rank 0 reads model.h5 once and
# broadcasts it), while the next run does score with the new model; (c4)
# SIGTERM / SIGUSR1 to the ranks while the temps exist: exit 75, no temp
# left; (c5) temps of killed runs of this output on this host (dead pid) are
# removed by the next run; a live process's, another host's and another
# output's are kept.
# labels: mpi predict
# timeout: 900
# ranks: 2 (gen, etl, predict), 1 (train), 3 (predict, c3)
# options: configs written by the script; -s gen.output_dir, gen.rows, gen.seed, predict.input,
#   predict.output, predict.on_bad_row, predict.batch_rows, train.output_dir, train.seed
# skips (exit 77): never ((c2) is skipped with a note when not root)
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
B=$BIN
cat >p.cfg <<'EOF'
gen = { output_dir = "raw"; rows = 6000; seed = 11; shards = 2; positive_fraction = 0.1;
        categorical_columns = 1; missing_fraction = 0.01; };
etl = { input = [ "raw/*.csv" ]; output = "ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; min = 0.0; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "ds.h5"; output_dir = "ta"; hidden = [ 8 ]; epochs = 1;
          batch_size = 256; resume = "never"; };
predict = { model = "ta/model.h5"; input = [ "raw/*.csv" ]; output = "prev/p.csv";
            id_columns = [ "Time" ]; on_bad_row = "skip"; };
monitoring = { profile = false; trace = false; };
EOF
q=(-q -c p.cfg)
np2=("${MPIRUN[@]}" -np 2)
expect_exit 0 "${np2[@]}" "$B/hpcml-gen" "${q[@]}"
expect_exit 0 "${np2[@]}" "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=new -s gen.seed=12 \
  -s 'gen.drift_columns=["V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13","V14","V15","V16","V17","V18","V19","V20"]' \
  -s gen.drift_shift=1.0
expect_exit 0 "${np2[@]}" "$B/hpcml-etl" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tb -s train.seed=777

# every file under $1 (hidden ones too): name, size, mtime, checksum
snap() { (cd "$1" && find . -type f -printf '%P %s %T@\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r md5sum); }
no_temps() { [[ -z $(find "$1" -name '*.tmp.*') ]] || fail "$1: temps left: $(find "$1" -name '*.tmp.*')"; }

# --- (c1) a failure after every file is staged ---------------------------------------------
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}"
[[ -s prev/predict_manifest.json && -s prev/rejects.csv && ! -e prev/DRIFT ]] || fail "(c1) first run: $(ls prev)"
before=$(snap prev)
sleep 1.1 # a touched file would show a newer mtime
HPCML_FAULT=predict.commit@0 expect_exit 3 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" \
  -s 'predict.input=["new/*.csv"]'
grep -q "injected fault at predict.commit" "$TMP/err" || { cat "$TMP/err"; fail "(c1) message"; }
[[ $(snap prev) == "$before" ]] || { diff <(echo "$before") <(snap prev); fail "(c1) the failed run changed the directory"; }
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["new/*.csv"]'
[[ -e prev/DRIFT ]] || fail "(c1) the drifted batch committed no DRIFT marker"
pass "(c1) a failure after staging: the previous set byte-identical and untouched, no new file, no temp; a rerun commits"

# --- (c2) a full file system at several points of the run (root: tmpfs) ----------------------
if [[ $(id -u) -eq 0 ]] && mkdir -p full && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
  umount full
  trap 'umount "$TMP/full" 2>/dev/null || true; rm -rf "$TMP"' EXIT
  # the previous run: 200 records, not drifted; the failing run: both drifted shards,
  # whose encoded spill (~4 bytes x 30 features a record), CSV parts and output need
  # up to ~5x its final set beside the previous one
  head -201 raw/part-00000.csv >small.csv
  expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["small.csv"]' -s predict.output=ok1/p.csv
  expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["new/*.csv"]' -s predict.output=ok2/p.csv
  k1=$(( $(du -sk ok1 | cut -f1) )) k2=$(( $(du -sk ok2 | cut -f1) ))
  failed=0
  for extra in $((k2 / 2)) $((k2 * 2)) $((k2 * 4)) $((k2 * 6)); do
    size=$((k1 * 2 + extra + 16))
    mount -t tmpfs -o size=${size}k tmpfs full
    expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["small.csv"]' -s predict.output=full/p.csv
    before=$(snap full)
    rc=0
    "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["new/*.csv"]' -s predict.output=full/p.csv \
      >"$TMP/out" 2>"$TMP/err" || rc=$?
    if ((rc == 3)); then
      failed=$((failed + 1))
      grep -q "cannot write\|No space left\|cannot create" "$TMP/err" || { cat "$TMP/err"; fail "(c2) ${size}k: no reason"; }
      [[ $(snap full) == "$before" ]] || { diff <(echo "$before") <(snap full); fail "(c2) ${size}k: the failed run changed the previous set"; }
    else
      ((rc == 0)) || { cat "$TMP/err"; fail "(c2) ${size}k: exit $rc"; }
      [[ -e full/DRIFT ]] && cmp full/p.csv ok2/p.csv || fail "(c2) ${size}k: exit 0 with another set"
    fi
    no_temps full
    umount full
  done
  trap 'rm -rf "$TMP"' EXIT
  ((failed >= 2)) || fail "(c2) only $failed of 4 sizes made the run fail (sizes too large?)"
  pass "(c2) a full file system ($failed of 4 sizes failed, exit 3): the previous set untouched, no new file, no temp"
else
  echo "note: (c2) needs root for a tmpfs; not run"
fi

# --- (c3) the model renamed over predict.model right after rank 0 read it ------------------
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s predict.output=ma/p.csv
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s predict.model=tb/model.h5 -s predict.output=mb/p.csv
cmp -s ma/p.csv mb/p.csv && fail "(c3) the two models score the same: the test proves nothing"
cp ta/model.h5 live.h5
cp tb/model.h5 next.h5
HPCML_PREDICT_TEST_SWAP_MODEL=next.h5 expect_exit 0 "${MPIRUN[@]}" -np 3 "$B/hpcml-predict" "${q[@]}" \
  -s predict.model=live.h5 -s predict.output=swap/p.csv
[[ ! -e next.h5 ]] && cmp -s live.h5 tb/model.h5 || fail "(c3) the model was not swapped"
cmp swap/p.csv ma/p.csv || fail "(c3) a model swapped after rank 0's read changed the output"
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s predict.model=live.h5 -s predict.output=after/p.csv
cmp after/p.csv mb/p.csv || fail "(c3) the next run does not score with the new model"
pass "(c3) model.h5 renamed over right after rank 0's read (3 ranks): the output is the read model's; the next run scores with the new one"

# --- (c4) SIGTERM / SIGUSR1 while the temps exist: 75, no temp --------------------------------
# The ranks are held at a named point (HPCML_PAUSE, core/preempt.h) until the signal comes:
# the signal always lands while the temps exist, never after the run.
expect_exit 0 "${np2[@]}" "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=big -s gen.rows=20000 -s gen.seed=13
for case in TERM:predict.spill:'^\.p\.csv\.rows\.r0\.tmp\.' USR1:predict.write:'^(p|rejects)\.csv\.tmp\.'; do
  IFS=: read -r sig point pat <<<"$case"
  o=sig_$sig
  mkdir -p "$o"
  HPCML_PAUSE=$point "${np2[@]}" "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["big/*.csv"]' \
    -s predict.output=$o/p.csv -s predict.batch_rows=4096 >"$TMP/sig.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 1200; i++)); do # until both ranks wait at the point
    (($(grep -c "hpcml: paused at $point" "$TMP/sig.log" || true) >= 2)) && break
    kill -0 $pid 2>/dev/null || { cat "$TMP/sig.log"; fail "(c4) ended before $point"; }
    sleep 0.1
  done
  ls -A "$o" | grep -Eq "$pat" || fail "(c4) no temp matching $pat at $point"
  # shellcheck disable=SC2046
  kill -$sig $(pgrep -P $pid) 2>/dev/null || true
  rc=0
  wait $pid || rc=$?
  ((rc == 75)) || { cat "$TMP/sig.log"; fail "(c4) SIG$sig at $point: exit $rc, expected 75"; }
  left=$(ls -A "$o" | grep '\.tmp\.' || true)
  [[ -z $left ]] || fail "(c4) SIG$sig at $point: temps left: $left"
  [[ ! -e $o/p.csv ]] || fail "(c4) SIG$sig at $point: p.csv was committed"
done
pass "(c4) SIGTERM during the read's spill, SIGUSR1 during the output's write (ranks held there): exit 75, no temp, nothing committed"

# --- (c5) temps of killed runs -----------------------------------------------------------
host=$(hostname)
sleep 0 &
dead=$!
wait $dead
mkdir -p st
for f in "p.csv.tmp.$host.$dead" ".p.csv.rows.r1.tmp.$host.$dead" ".p.csv.predictions.r0.tmp.$host.$dead" \
  "drift.json.tmp.$host.$dead" "predict_manifest.json.tmp.$host.$dead" \
  "drift.json.tmp.$host.$dead.tmp.$host.$dead"; do
  echo stale >"st/$f"
done
keep=("p.csv.tmp.$host.$$" "p.csv.tmp.other-host.$dead" "other.csv.tmp.$host.$dead"
  ".other.csv.rows.r0.tmp.$host.$dead" "p.csv.tmpx" "notes.txt")
for f in "${keep[@]}"; do echo keep >"st/$f"; done
expect_exit 0 "${np2[@]}" "$B/hpcml-predict" -c p.cfg -s predict.output=st/p.csv
got=$(cd st && ls -A | grep -v '^p\.csv$\|^predict_quality\.json$\|^predict_manifest\.json$\|^drift\.\(json\|svg\)$\|^rejects\.csv$' | sort)
want=$(printf '%s\n' "${keep[@]}" | sort)
[[ $got == "$want" ]] || fail "(c5) left: $(echo $got); expected $(echo $want)"
grep -q "removed st/p.csv.tmp.$host.$dead: a temp file of process $dead" "$TMP/err" || { cat "$TMP/err"; fail "(c5) no warning"; }
pass "(c5) a killed run's temps (dead pid, this host, this output) removed; a live one's, another host's, another output's kept"
