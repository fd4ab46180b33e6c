#!/usr/bin/env bash
# hpcml-export end to end on real files: gen -> etl -> train (model.h5) ->
# export -> ONNX. Debian's python3-onnx checks both graphs (full_check and
# strict shape inference); ONNX Runtime (npm onnxruntime-node, installed by
# scripts/setup.sh --test) runs them: fed the raw /test records (numeric
# columns as float32, NaN for a null marker; categories as their text) plus
# crafted records with missing values, null markers, unseen categories and
# values far outside the training range, the full graph gives hpcml-predict's
# probabilities within 1e-5 and its labels; the --network-only graph, fed
# dataset.h5's transformed /test rows, gives predictions.h5's probabilities.
# A second model (GELU, minmax scaling, index-encoded category, constant and
# most-frequent imputation) covers the other paths. The PyTorch recipe of
# docs/export.md, run as written, gives the same probabilities. Bad input: a
# model of another format version, a truncated model (exit 2), an output
# that cannot be written (exit 3): a clear message, nothing partial, an
# earlier model.onnx untouched.
# labels: export predict onnx python
# timeout: 300
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
B=$BIN
need_py_module onnx
need_py_module torch
command -v node >/dev/null || fail "node is not installed (scripts/setup.sh --test)"
ORT=${HPCML_ORT_NODE:-$SRC/.cache/npm/node_modules/onnxruntime-node}
[[ -d $ORT ]] || fail "no onnxruntime-node at $ORT (scripts/setup.sh --test installs it)"
RUN_ORT=(node "$SRC/tests/scripts/ort_run.js" "$ORT")

cat >e.cfg <<'CFG'
gen = { output_dir = "raw"; rows = 12000; seed = 23; shards = 2; positive_fraction = 0.1;
        categorical_columns = 1; missing_fraction = 0.02; };
etl = { input = [ "raw/*.csv" ]; output = "ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "ds.h5"; output_dir = "train"; hidden = [ 16, 8 ]; epochs = 2;
          batch_size = 256; resume = "never"; };
predict = { model = "train/model.h5"; input = [ "test.csv" ]; output = "pred/p.csv"; };
export = { model = "train/model.h5"; output = "onnx/model.onnx"; };
monitoring = { profile = false; trace = false; };
CFG
q=(-q -c e.cfg)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-gen" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}"
# the second model: other activation, scaling, encoding and imputations
sed -e 's/"ds.h5"/"ds2.h5"/; s/"train"; hidden/"train2"; activation = "gelu"; hidden/' \
    -e 's/name = "Time"; type = "float";/&  scale = "none"; impute = "constant"; impute_value = 5.0;/' \
    -e 's/impute = "median";/scale = "minmax"; impute = "most_frequent";/' \
    -e 's/required = false;/& encoding = "index"; impute = "most_frequent";/' e.cfg >e2.cfg
grep -q 'encoding = "index"' e2.cfg && grep -q gelu e2.cfg || fail "e2.cfg: $(cat e2.cfg)"
g=(-c e2.cfg)
# the third: the quantile transform (etl_quantile.h) on every numeric column, ties in Amount
sed -e 's/"ds.h5"/"ds3.h5"/; s/"train"; hidden/"train3"; hidden/' \
    -e 's/label = "Class";/& default_scale = "quantile"; n_quantiles = 200;/' \
    -e 's/impute = "median";/& scale = "quantile";/' e.cfg >e3.cfg
grep -q 'default_scale = "quantile"' e3.cfg || fail "e3.cfg: $(cat e3.cfg)"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" -q "${g[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" -q "${g[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" -q -c e3.cfg
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" -q -c e3.cfg
pass "three models trained (ReLU/standard/one-hot, GELU/minmax/index, quantile)"

expect_exit 0 "$B/hpcml-export" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-export" "${q[@]}" --network-only -o onnx/net.onnx
expect_exit 0 "$B/hpcml-export" -q --model train2/model.h5 -o onnx/model2.onnx
expect_exit 0 "$B/hpcml-export" -q --model train2/model.h5 --network-only -o onnx/net2.onnx
expect_exit 0 "$B/hpcml-export" -q --model train3/model.h5 -o onnx/model3.onnx
expect_exit 0 "$B/hpcml-export" -q --model train3/model.h5 --network-only -o onnx/net3.onnx
ls onnx | grep -q 'tmp' && fail "temp files left in onnx/: $(ls onnx)"
pass "hpcml-export wrote six graphs (with and without the transform, 1 and 2 ranks)"

# --- python3-onnx: the checker with full_check, strict shape inference, metadata ----------
$PY - <<'PYEOF' || fail "onnx checker"
import json, onnx, h5py
from onnx import checker, shape_inference
for name in ("model", "net", "model2", "net2", "model3", "net3"):
    m = onnx.load(f"onnx/{name}.onnx")
    checker.check_model(m, full_check=True)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    assert m.ir_version == 8, m.ir_version
    ops = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    assert ops["ai.onnx"] == 17 and ops.get("ai.onnx.ml", 3) == 3, ops
    meta = {p.key: p.value for p in m.metadata_props}
    src = "train" + name[-1] if name[-1].isdigit() else "train"
    with h5py.File(f"{src}/model.h5") as f:
        fnames = [s.decode() for s in f["meta/feature_names"][:]]
    assert json.loads(meta["feature_names"]) == fnames, (meta["feature_names"], fnames)
    assert len(meta["hpcml_train_config_hash"]) == 16 and meta["hpcml_version"], meta
    outs = {o.name: o for o in inferred.graph.output}
    assert set(outs) == {"probabilities", "label"}, outs
    ins = [i.name for i in m.graph.input]
    want = ["features"] if name.startswith("net") else ["Time", "V1"]
    assert ins[:len(want)] == want, ins
    print(name, "ok:", len(m.graph.node), "nodes, inputs", ins[:3], "...")
PYEOF
pass "onnx.checker full_check and strict shape inference pass; IR 8, opset 17, ai.onnx.ml 3; metadata"

# --- the raw /test records plus crafted ones ----------------------------------------------
for m in "" 2 3; do
$PY "$SRC/tests/scripts/select_test_records.py" "ds$m.h5" "test$m.csv" raw/*.csv ||
  fail "selecting the /test records"
$PY - "$m" <<'PYEOF' || fail "crafted records"
import sys
m = sys.argv[1]
lines = open(f"test{m}.csv").readlines()
header, rows = lines[0], lines[1:]
cols = header.strip().split(",")
base = rows[0].strip().split(",")
def crafted(**kv):
    r = list(base)
    for c, v in kv.items():
        r[cols.index(c)] = v
    return ",".join(r) + "\n"
extra = [crafted(Time="", Amount="NA"), crafted(Cat1=""), crafted(Cat1="NA"),
         crafted(Cat1="never_seen_in_training"), crafted(Cat1="?", V1="null", V2="unknown"),
         crafted(Time="9e9", Amount="123456789"), crafted(V3="-1e6", V4="1e6", Time="-50000"),
         crafted(**{f"V{i}": "" for i in range(1, 29)}), crafted(Amount="0", Time="0")]
open(f"test{m}.csv", "w").write(header + "".join(rows + extra))
print(len(rows), "test records +", len(extra), "crafted")
PYEOF
expect_exit 0 "$B/hpcml-predict" "${q[@]}" -s "predict.model=train$m/model.h5" \
  -s "predict.input=[\"test$m.csv\"]" -s "predict.output=pred$m/p.csv"
# the inputs as a serving system gets them: raw values, NaN where a null marker stands
$PY - "$m" <<'PYEOF' || fail "building the ONNX Runtime inputs"
import csv, json, sys, h5py, onnx
m = sys.argv[1]
model = onnx.load(f"onnx/model{m}.onnx")
nulls = {"", "NA", "?", "null", "unknown"}  # etl.null_markers' default
with open(f"test{m}.csv") as f:
    rd = csv.DictReader(f)
    recs = list(rd)
feeds = {}
for i in model.graph.input:
    string = i.type.tensor_type.elem_type == onnx.TensorProto.STRING
    vals = [r[i.name] for r in recs]
    if string:
        feeds[i.name] = {"type": "string", "dims": [len(vals)], "data": vals}
    else:
        feeds[i.name] = {"type": "float", "dims": [len(vals)],
                         "data": [None if v.strip() in nulls else float(v) for v in vals]}
json.dump(feeds, open(f"ort_in{m}.json", "w"))
# the same graph with its feature row as a third output, to compare the transform itself
F = len(json.loads({p.key: p.value for p in model.metadata_props}["feature_names"]))
model.graph.output.append(onnx.helper.make_tensor_value_info(
    "hpcml/features", onnx.TensorProto.FLOAT, ["N", F]))
onnx.save(model, f"onnx/feat{m}.onnx")
with h5py.File(f"ds{m}.h5") as f:
    X = f["test/X"][:]
json.dump({"features": {"type": "float", "dims": list(X.shape), "data": X.ravel().tolist()}},
          open(f"ort_net_in{m}.json", "w"))
PYEOF
expect_exit 0 "${RUN_ORT[@]}" "onnx/model$m.onnx" "ort_in$m.json" "ort_out$m.json"
expect_exit 0 "${RUN_ORT[@]}" "onnx/net$m.onnx" "ort_net_in$m.json" "ort_net_out$m.json"
expect_exit 0 "${RUN_ORT[@]}" "onnx/feat$m.onnx" "ort_in$m.json" "ort_feat_out$m.json"
$PY - "$m" <<'PYEOF' || fail "ONNX Runtime against hpcml-predict (model$m)"
import csv, json, sys, h5py, numpy as np
m = sys.argv[1]
out = json.load(open(f"ort_out{m}.json"))
C = out["probabilities"]["dims"][1]
P = np.array(out["probabilities"]["data"], dtype=np.float64).reshape(-1, C)
with open(f"pred{m}/p.csv") as f:
    rd = list(csv.reader(f))
ref = np.array([[float(x) for x in r[:C]] for r in rd[1:]])
labels = [r[C] for r in rd[1:]]
assert P.shape == ref.shape, (P.shape, ref.shape)
d = np.abs(P - ref).max(axis=1)
assert d.max() <= 1e-5, f"max |ORT - hpcml-predict| = {d.max():.3g} at row {d.argmax()}"
thr = h5py.File(f"train{m}/model.h5").attrs["threshold"]
near = np.abs(ref[:, 1] - thr) < 1e-5
bad = [i for i, (a, b) in enumerate(zip(out["label"]["data"], labels)) if a != b and not near[i]]
assert not bad, f"labels differ on rows {bad[:5]}"
n_crafted = 9
print(f"model{m}: {len(ref)} records ({n_crafted} crafted): max |diff| {d.max():.2e} "
      f"(crafted rows {d[-n_crafted:].max():.2e}); labels equal")
feat = json.load(open(f"ort_feat_out{m}.json"))["hpcml/features"]
Fx = np.array(feat["data"], dtype=np.float32).reshape(feat["dims"])
Xref = h5py.File(f"ds{m}.h5")["test/X"][:]
df = np.abs(Fx[:len(Xref)].astype(np.float64) - Xref)
rel = (df / np.maximum(np.abs(Xref), 1.0)).max()
assert rel <= 1e-6, f"features: max |ORT - dataset.h5| / max(|x|, 1) = {rel:.3g}"
print(f"model{m}: transformed /test rows against dataset.h5's X: max |diff| {df.max():.2e}, "
      f"relative {rel:.2e}; {int((df > 0).sum())} of {df.size} features not bit-identical")
net = json.load(open(f"ort_net_out{m}.json"))
Pn = np.array(net["probabilities"]["data"], dtype=np.float32).reshape(-1, C)
pref = h5py.File(f"train{m}/predictions.h5")["prob"][:]
dn = np.abs(Pn.astype(np.float64) - pref).max()
assert dn <= 1e-5, f"network-only: max |ORT - predictions.h5| = {dn:.3g}"
print(f"net{m}: {len(pref)} transformed /test rows: max |diff| {dn:.2e}")
PYEOF
done
pass "ONNX Runtime: hpcml-predict's probabilities within 1e-5 and its labels (raw records, crafted rows, network only)"

# --- the PyTorch recipe of docs/export.md, as written ------------------------------------
$PY - "$SRC/docs/export.md" <<'PYEOF' >recipe.py || fail "no recipe in docs/export.md"
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"<!-- recipe: torch -->\s*```python\n(.*?)```", text, re.S)
print(m.group(1))
PYEOF
for m in "" 2 3; do
$PY - "$m" <<'PYEOF' || fail "the PyTorch recipe (model$m)"
import sys, h5py, numpy as np, torch
m = sys.argv[1]
ns = {}
exec(open("recipe.py").read(), ns)
net = ns["load_hpcml_model"](f"train{m}/model.h5")
with h5py.File(f"ds{m}.h5") as f:
    X = torch.from_numpy(f["test/X"][:])
with torch.no_grad():
    P = net(X).numpy()
pref = h5py.File(f"train{m}/predictions.h5")["prob"][:]
d = np.abs(P.astype(np.float64) - pref).max()
assert d <= 1e-5, f"max |torch - predictions.h5| = {d:.3g}"
print(f"torch recipe, model{m}: max |diff| {d:.2e} on {len(pref)} rows")
PYEOF
done
pass "the PyTorch recipe of docs/export.md gives predictions.h5's probabilities within 1e-5"

# --- bad input: other version, truncated, unwritable output --------------------------------
cp onnx/model.onnx keep.onnx
cp train/model.h5 v99.h5
$PY - <<'PYEOF'
import h5py, numpy as np
with h5py.File("v99.h5", "r+") as f:
    f.attrs["format_version"] = np.int32(99)
PYEOF
expect_exit 2 "$B/hpcml-export" "${q[@]}" --model v99.h5
grep -q "v99.h5: model format_version 99; this hpcml reads versions 1 to 2" "$TMP/err" ||
  { cat "$TMP/err"; fail "other format version: message"; }
head -c 5000 train/model.h5 >trunc.h5
expect_exit 2 "$B/hpcml-export" "${q[@]}" --model trunc.h5
grep -q "trunc.h5: .*corrupt or truncated" "$TMP/err" || { cat "$TMP/err"; fail "truncated: message"; }
expect_exit 3 "$B/hpcml-export" "${q[@]}" --model missing.h5
grep -q "missing.h5: cannot read the model file" "$TMP/err" || { cat "$TMP/err"; fail "missing"; }
cmp keep.onnx onnx/model.onnx || fail "a failed export touched the earlier model.onnx"
echo "not a directory" >afile
expect_exit 3 "$B/hpcml-export" "${q[@]}" -o afile/model.onnx
grep -q "afile" "$TMP/err" || { cat "$TMP/err"; fail "unwritable output: message"; }
mkdir -p ro && chmod 555 ro
if [[ $(id -u) -ne 0 ]]; then
  expect_exit 3 "$B/hpcml-export" "${q[@]}" -o ro/model.onnx
fi
ls onnx ro . | grep -q '\.tmp\.' && fail "temp files left behind"
[[ ! -e afile/model.onnx && ! -e ro/model.onnx ]] || fail "partial output"
pass "other format version, truncated (2), missing model, unwritable output (3): clear messages, nothing partial"
