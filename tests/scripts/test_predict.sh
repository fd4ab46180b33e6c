#!/usr/bin/env bash
# hpcml-predict end to end on real MPI and real files: gen -> etl -> train
# (model.h5) -> predict. Proves one transform for training and serving: the
# raw CSV records of the /test split, scored by hpcml-predict, give
# bit-identical probabilities to the trainer's predictions.h5 and the same
# metrics as evaluation.json; the output CSV is byte-identical for -np 1, 2
# and 4; bad rows (error and skip), unseen categories (counted; fatal with
# predict.unseen = "error"), a missing column and a missing, corrupt, foreign,
# other-version or tampered model give the documented exit code and message
# and leave no output behind; hpcml-train --package writes a usable model.
# labels: mpi predict
# timeout: 600
# ranks: 1, 2, 4 (predict); 2 (gen, etl); 1 (train)
# options: configs written by the script; -s gen.drift_shift, gen.output_dir, gen.seed,
#   monitoring.alerts, predict.id_columns, predict.input, predict.model, predict.on_bad_row,
#   predict.output, predict.unseen
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
B=$BIN
cat >p.cfg <<'EOF'
gen = { output_dir = "raw"; rows = 12000; seed = 11; shards = 3; positive_fraction = 0.1;
        categorical_columns = 1; missing_fraction = 0.01; };
etl = { input = [ "raw/*.csv" ]; output = "ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; min = 0.0; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "ds.h5"; output_dir = "train"; hidden = [ 16, 8 ]; epochs = 2;
          batch_size = 256; resume = "never"; };
predict = { model = "train/model.h5"; input = [ "raw/*.csv" ]; output = "pred/p.csv"; };
monitoring = { profile = false; trace = false; };
EOF
q=(-q -c p.cfg)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-gen" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}"
[[ -s train/model.h5 ]] || fail "hpcml-train wrote no model.h5"
pass "hpcml-train wrote train/model.h5"

# --- the /test split's raw records, by row id ----------------------------------------
$PY "$SRC/tests/scripts/select_test_records.py" ds.h5 test.csv raw/*.csv ||
  fail "selecting the /test records"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["test.csv"]' \
  -s predict.output=rt/p.csv
$PY - <<'EOF' || fail "round trip against predictions.h5 / evaluation.json"
import json, h5py, numpy as np
ref = h5py.File("train/predictions.h5")["prob"][:]
got = np.loadtxt("rt/p.csv", delimiter=",", skiprows=1, usecols=(0, 1), dtype=np.float64)
got = got.astype(np.float32)
assert got.shape == ref.shape, (got.shape, ref.shape)
assert np.array_equal(got.view(np.uint32), ref.view(np.uint32)), \
    f"{(got != ref).sum()} probabilities differ"
ev = json.load(open("train/evaluation.json"))["test"]
pq = json.load(open("rt/predict_quality.json"))["metrics"]
for k, v in ev.items():
    assert pq[k] == v, (k, pq[k], v)
print("bit-identical on", len(ref), "rows; metrics equal:", {k: ev[k] for k in ("auc", "f1", "loss")})
EOF
pass "/test raw records: bit-identical probabilities and the same metrics as evaluation.json"

# --- any rank count: the same bytes ------------------------------------------------------
for np in 1 2 4; do
  expect_exit 0 "${MPIRUN[@]}" -np $np "$B/hpcml-predict" "${q[@]}" -s predict.output=np$np/p.csv \
    -s 'predict.id_columns=["Time", "Cat1"]'
done
cmp np1/p.csv np2/p.csv || fail "np 1 and 2 differ"
cmp np1/p.csv np4/p.csv || fail "np 1 and 4 differ"
# Streaming: small batches (chunks of 2048 rows cut by batch and rank boundaries)
for np in 1 2 3; do
  expect_exit 0 "${MPIRUN[@]}" -np $np "$B/hpcml-predict" "${q[@]}" -s predict.output=b$np/p.csv \
    -s 'predict.id_columns=["Time", "Cat1"]' -s predict.batch_rows=2500
  cmp np1/p.csv b$np/p.csv || fail "batch_rows = 2500 on $np ranks differs from one batch"
  cmp np1/predict_quality.json <(sed 's/"batch_rows": 2500/"batch_rows": 65536/; s#b'$np'/p.csv#np1/p.csv#' b$np/predict_quality.json) ||
    fail "predict_quality.json with batch_rows = 2500 on $np ranks differs"
done
cmp np1/drift.json b3/drift.json || fail "drift.json differs with batches"
[[ $(wc -l <np1/p.csv) -eq 12001 ]] || fail "rows: $(wc -l <np1/p.csv)"
head -1 np1/p.csv | grep -qx 'Time,Cat1,prob_0,prob_1,predicted' || fail "header: $(head -1 np1/p.csv)"
diff <(cat raw/*.csv | grep -v '^Time' | cut -d, -f1,31) <(tail -n +2 np1/p.csv | cut -d, -f1,2) \
  >/dev/null || fail "id columns not in input order"
pass "np 1, 2, 4 and batches of 2500 on 1, 2, 3 ranks: byte-identical CSV in input order with the id columns"

# --- bad rows, unseen categories, missing columns ----------------------------------------
mkdir -p bad
head -1 raw/part-00000.csv >bad/b.csv
sed -n 2,30p raw/part-00000.csv >>bad/b.csv
sed -n 31p raw/part-00000.csv | awk -F, -v OFS=, '{$3="abc"; print}' >>bad/b.csv   # line 31
sed -n 32,40p raw/part-00000.csv | awk -F, -v OFS=, 'NR==3{$31="never-seen"} {print}' >>bad/b.csv
bq=("${q[@]}" -s 'predict.input=["bad/b.csv"]' -s predict.output=badout/p.csv)
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${bq[@]}"
grep -q "bad/b.csv:31:.*column 'V2': 'abc' is not a number" "$TMP/err" || { cat "$TMP/err"; fail "bad row message"; }
[[ -z $(ls -A badout 2>/dev/null) ]] || fail "a failed run left files: $(ls badout)"
pass "bad row, on_bad_row = error: exit 2 with FILE:LINE:COLUMN, nothing written"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${bq[@]}" -s predict.on_bad_row=skip
[[ $(wc -l <badout/p.csv) -eq 39 ]] || fail "skip: $(wc -l <badout/p.csv) lines"
grep -q '^bad/b.csv,31,a field that does not parse' badout/rejects.csv || fail "rejects.csv: $(cat badout/rejects.csv)"
$PY - <<'EOF' || fail "predict_quality.json counts"
import json
q = json.load(open("badout/predict_quality.json"))
assert q["rows_read"] == 39 and q["rows_scored"] == 38 and q["rows_rejected"] == 1, q
assert q["rejected"]["bad_value"] == 1, q["rejected"]
assert q["columns"]["Cat1"]["unseen_categories"] == 1, q["columns"]["Cat1"]
assert q["unseen_categories"] == 1
EOF
pass "on_bad_row = skip: rejects.csv with file, line, reason; unseen category counted"
sed -i 31d bad/b.csv
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${bq[@]}" -s predict.unseen=error \
  -s predict.output=unseenout/p.csv
grep -q "bad/b.csv:33: column 'Cat1': category 'never-seen' was not seen in training" "$TMP/err" ||
  { cat "$TMP/err"; fail "unseen message"; }
[[ -z $(ls -A unseenout 2>/dev/null) ]] || fail "unseen = error left files: $(ls unseenout)"
pass "unseen = error: exit 2 naming FILE:LINE and the category"
cut -d, -f1-3,5- raw/part-00001.csv >bad/missing.csv
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["bad/missing.csv"]' \
  -s predict.output=missout/p.csv
grep -q "column 'V3' needed by the model is missing" "$TMP/err" || { cat "$TMP/err"; fail "missing column message"; }
[[ ! -e missout/p.csv ]] || fail "missing column: output written"
pass "missing column: exit 2 naming it"

# --- model files that cannot be used -----------------------------------------------------
mo=(-s predict.output=mout/p.csv)
expect_exit 3 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=nope.h5
grep -q "nope.h5: cannot read the model file" "$TMP/err" || { cat "$TMP/err"; fail "missing model"; }
head -c 3000 train/model.h5 >trunc.h5
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=trunc.h5
grep -q "trunc.h5: .*corrupt or truncated" "$TMP/err" || { cat "$TMP/err"; fail "truncated model"; }
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=ds.h5
grep -q "ds.h5: not an hpcml model" "$TMP/err" || { cat "$TMP/err"; fail "foreign model"; }
cp train/model.h5 v99.h5
cp train/model.h5 tampered.h5
cp train/model.h5 vocab.h5
cp train/model.h5 scale.h5
cp train/model.h5 v1.h5
$PY - <<'EOF'
import hashlib, h5py, numpy as np
with h5py.File("v99.h5", "r+") as f:
    f.attrs["format_version"] = np.int32(99)
with h5py.File("tampered.h5", "r+") as f:
    f["model/layer0.bias"][0] += 1.0
# one byte of a vocabulary entry; one byte of a scaling array
with h5py.File("vocab.h5", "r+") as f:
    v = f["meta/columns/Cat1/vocabulary"]
    e = v[1]
    e = e.decode() if isinstance(e, bytes) else e
    v[1] = e[:-1] + chr(ord(e[-1]) ^ 1)
with h5py.File("scale.h5", "r+") as f:
    a = f["meta/scale_mul"][:]
    b = a.view(np.uint8).copy(); b[0] ^= 1
    f["meta/scale_mul"][:] = b.view(np.float64)
# a version 1 file: the v1 checksum (weights, threshold, config texts) only
with h5py.File("v1.h5", "r+") as f:
    n = int(f["model"].attrs["n_layers"])
    h = hashlib.sha256()
    for k in range(n):
        h.update(f[f"model/layer{k}.weight"][:].astype("<f4").tobytes())
        h.update(f[f"model/layer{k}.bias"][:].astype("<f4").tobytes())
    h.update(np.float64(f.attrs["threshold"]).astype("<f8").tobytes())
    for p in ("train_config", "meta/config"):
        t = f[p][()]
        t = t[0] if isinstance(t, np.ndarray) else t
        h.update(t if isinstance(t, bytes) else t.encode())
    f.attrs["format_version"] = np.int32(1)
    f.attrs["checksum"] = h.hexdigest()
    f.attrs["checksum_algorithm"] = "sha256/v1"
EOF
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=v99.h5
grep -q "v99.h5: model format_version 99; this hpcml reads versions 1 to 2" "$TMP/err" ||
  { cat "$TMP/err"; fail "other version"; }
expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=tampered.h5
grep -q "tampered.h5: checksum mismatch" "$TMP/err" || { cat "$TMP/err"; fail "tampered model"; }
for m in vocab scale; do
  expect_exit 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" "${mo[@]}" -s predict.model=$m.h5
  grep -q "$m.h5: checksum mismatch" "$TMP/err" || { cat "$TMP/err"; fail "a flipped byte in /meta ($m)"; }
done
[[ -z $(ls -A mout 2>/dev/null) ]] || fail "a failed run left files: $(ls mout)"
pass "missing (3), truncated, foreign, other-version, tampered weights, vocabulary or scaling (2): clear messages, no output"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" -c p.cfg -s predict.model=v1.h5 -s predict.output=v1out/p.csv \
  -s 'predict.id_columns=["Time", "Cat1"]'
grep -q "v1.h5: model format_version 1: its checksum covers the weights and config texts but not" "$TMP/err" ||
  { cat "$TMP/err"; fail "no warning for a version 1 model"; }
cmp v1out/p.csv np1/p.csv || fail "a version 1 model scores differently"
pass "a version 1 model (checksum without /meta) still scores, with a warning naming the version"

# --- hpcml-train --package --------------------------------------------------------------
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}" --package train/checkpoints/best.h5 -o pkg/best.h5
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" -s predict.model=pkg/best.h5 \
  -s predict.output=pkg/p.csv -s 'predict.id_columns=["Time", "Cat1"]'
if grep -q '"weights": "best"' train/evaluation.json; then
  cmp pkg/p.csv np1/p.csv || fail "--package of best.h5 scores differently from model.h5"
fi
pass "hpcml-train --package CHECKPOINT -o PATH writes a model that scores"

# --- HDF5 output ----------------------------------------------------------------------
for np in 1 3; do
  expect_exit 0 "${MPIRUN[@]}" -np $np "$B/hpcml-predict" "${q[@]}" -s predict.output=h5_$np/p.h5 \
    -s 'predict.id_columns=["Time", "Cat1"]' -s predict.batch_rows=2500
done
h5diff h5_1/p.h5 h5_3/p.h5 || fail "p.h5 differs between 1 and 3 ranks"
$PY - <<'EOF' || fail "p.h5 against p.csv"
import csv as C, h5py, numpy as np
f = h5py.File("h5_3/p.h5")
csv = np.loadtxt("np1/p.csv", delimiter=",", skiprows=1, usecols=(2, 3), dtype=np.float64)
assert (f["row_id"][:] == np.arange(12000)).all()
assert np.array_equal(f["prob"][:], csv.astype(np.float32))
assert f.attrs["hpcml_format"] in (b"hpcml-predictions", "hpcml-predictions")
rows = list(C.reader(open("np1/p.csv")))[1:]
for k, name in enumerate(["Time", "Cat1"]):
    d = f["id/" + name]
    assert d.attrs["order"] == k and d.attrs["name"] in (name, name.encode())
    got = [x.decode() for x in d[:]]
    assert got == [r[k] for r in rows], name
EOF
pass "output .h5: same probabilities, row ids in input order, the id columns as /id/<name>; h5diff-equal on 1 and 3 ranks"

# --- drift: the reference in model.h5 against the scored rows' raw values ------------------
dc='gen.drift_columns=["V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13","V14","V15","V16","V17","V18"]'
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=drifted -s gen.seed=99 \
  -s "$dc" -s gen.drift_shift=1.0
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=same -s gen.seed=98
for np in 1 3; do
  expect_exit 0 "${MPIRUN[@]}" -np $np "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["drifted/*.csv"]' \
    -s predict.output=d$np/p.csv
done
[[ -f d1/DRIFT && -s d1/drift.svg ]] || fail "drifted batch: no DRIFT marker or drift.svg"
cmp d1/drift.json d3/drift.json || fail "drift.json differs between 1 and 3 ranks"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["same/*.csv"]' \
  -s predict.output=s/p.csv
[[ -s s/drift.json && ! -e s/DRIFT ]] || fail "undrifted batch: DRIFT marker or no drift.json"
$PY - <<'EOF' || fail "drift.json verdicts"
import json
d, s = json.load(open("d1/drift.json")), json.load(open("s/drift.json"))
assert d["format"] == "hpcml-drift" and d["version"] == 1
assert d["dataset_drift"] is True and s["dataset_drift"] is False, (d["drifted_columns"], s["drifted_columns"])
drifted = {c["name"] for c in d["columns"] if c["drifted"]}
assert {f"V{i}" for i in range(1, 19)} <= drifted, drifted
assert json.load(open("d1/predict_quality.json"))["drift"]["dataset_drift"] is True
EOF
pass "drift: a shifted batch drifts (DRIFT marker, drift.json identical on 1 and 3 ranks), a fresh batch does not"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" -c p.cfg -s 'predict.input=["drifted/*.csv"]' \
  -s predict.output=al/p.csv -s 'monitoring.alerts=({metric="drift_share"; threshold=0.3;})'
grep -q "ALERT drift: drift_share above 0.3" "$TMP/err" || { cat "$TMP/err"; fail "no ALERT line"; }
grep -q '"alert": "drift_share above 0.3"' al/predict_quality.json || fail "no alert record"
pass "drift through the alert rules: ALERT line and record, exit 0"

# --- the commit: a crash between the renames leaves no manifest ---------------------------
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" -s predict.output=c/p.csv -s predict.on_bad_row=skip
$PY - <<'EOF' || fail "manifest of a complete run"
import json, os
m = json.load(open("c/predict_manifest.json"))
assert m["format"] == "hpcml-predict-manifest", m
for name in ("p.csv", "predict_quality.json", "drift.json", "drift.svg", "rejects.csv"):
    assert m["files"][name]["bytes"] == os.path.getsize("c/" + name), name
EOF
cp c/p.csv c/p.before
HPCML_FAULT=predict.kill_before_output@0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" \
  -s predict.output=c/p.csv -s predict.on_bad_row=skip -s 'predict.input=["drifted/*.csv"]' \
  >"$TMP/out" 2>"$TMP/err" && fail "the killed run exited 0"
[[ ! -e c/predict_manifest.json ]] || fail "a manifest after a crash between the renames"
cmp c/p.csv c/p.before || fail "the crash changed the previous predictions"
grep -q '"dataset_drift": true' c/drift.json || fail "the side files were not renamed before the crash"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}" -s predict.output=c/p.csv -s predict.on_bad_row=skip \
  -s 'predict.input=["drifted/*.csv"]'
[[ -s c/predict_manifest.json ]] || fail "no manifest after the rerun"
pass "a kill between the renames: no manifest (the set is marked incomplete), old predictions intact; a rerun commits"
