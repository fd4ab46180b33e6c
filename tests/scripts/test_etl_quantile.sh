#!/usr/bin/env bash
# scale = "quantile" on UCI Adult (configs/adult.cfg with the six numeric
# columns quantile-scaled, numeric cells blanked so imputation precedes the
# map): -np 1, 2 and 3 give h5diff-identical datasets; quantiles and features
# agree with scikit-learn's QuantileTransformer (etl_quantile_check.py states
# the tolerances); a model trained on it scores the /test split's raw records
# through hpcml-predict (model.h5's copy of the quantiles) with probabilities
# bit-identical to the trainer's; a model whose quantiles were removed is
# rejected (exit 2).
# ranks: etl 1, 2, 3; train 1; predict 2
# labels: mpi etl quantile
# timeout: 300
source "$(dirname "$0")/lib.sh" "$@"
need_py_module sklearn
data=$SRC/tests/data
cd "$TMP"
$PY "$SRC/tests/scripts/etl_adult_check.py" holes "$data/adult.data" adult_holes.data
# Every numeric column on the default scale, the default quantile.
sed -e 's/ scale = "[a-z]*";//' "$SRC/configs/adult.cfg" >q.cfg
grep -q 'scale =' q.cfg && fail "q.cfg still names a scale"
cat >>q.cfg <<'EOF2'
train = { dataset = "np1/adult.h5"; output_dir = "train"; hidden = [ 16 ]; epochs = 1;
          batch_size = 256; resume = "never"; };
predict = { model = "train/model.h5"; input = [ "test.csv" ]; output = "pred/p.csv"; };
monitoring = { profile = false; trace = false; };
EOF2
q=(-q -c q.cfg -s "etl.input=[\"adult_holes.data\", \"$data/adult.test\"]"
   -s 'etl.default_scale="quantile"')
# one output name (the effective config in /meta/config names it), moved aside
mkdir -p etlout
for np in 1 2 3; do
  expect_exit 0 timeout 120 "${MPIRUN[@]}" -np $np "$BIN/hpcml-etl" "${q[@]}" \
    -s "etl.output=etlout/adult.h5"
  mkdir -p np$np && mv etlout/adult.h5 np$np/adult.h5
done
h5diff -q np1/adult.h5 np2/adult.h5 || fail "np 1 and 2 differ"
h5diff -q np1/adult.h5 np3/adult.h5 || fail "np 1 and 3 differ"
pass "quantile scaling: np 1, 2, 3 identical"

cols=age,fnlwgt,education-num,capital-gain,capital-loss,hours-per-week
$PY "$SRC/tests/scripts/etl_quantile_check.py" np1/adult.h5 "$cols" adult_holes.data \
  "$data/adult.test" || fail "quantile transform differs from scikit-learn's"
pass "quantile scaling: quantiles and features match scikit-learn"

# --- scoring applies the same map: /test raw records through hpcml-predict ---------------
expect_exit 0 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-train" "${q[@]}"
$PY - "$data/adult.test" <<'PYEOF' || fail "selecting the /test records"
import sys, h5py
rid = set(h5py.File("np1/adult.h5")["test/row_id"][:].tolist())
rows, k = [], 0
for path in ("adult_holes.data", sys.argv[1]):
    for line in open(path):
        if not line.strip() or line.startswith("|"):
            continue
        if k in rid:
            rows.append(line)
        k += 1
assert len(rows) == len(rid), (len(rows), len(rid))
open("test.csv", "w").write("".join(rows))
PYEOF
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-predict" "${q[@]}"
$PY - <<'PYEOF' || fail "hpcml-predict's probabilities differ from the trainer's"
import h5py, numpy as np
ref = h5py.File("train/predictions.h5")["prob"][:]
got = np.loadtxt("pred/p.csv", delimiter=",", skiprows=1, usecols=(0, 1)).astype(np.float32)
assert got.shape == ref.shape, (got.shape, ref.shape)
assert np.array_equal(got.view(np.uint32), ref.view(np.uint32)), f"{(got != ref).sum()} differ"
print("bit-identical on", len(ref), "rows")
PYEOF
pass "quantile scaling: hpcml-predict applies model.h5's quantiles"

cp train/model.h5 broken.h5
$PY - <<'PYEOF'
import h5py
with h5py.File("broken.h5", "r+") as f:
    del f["meta/columns/capital-gain/quantiles"]
PYEOF
expect_exit 2 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-predict" "${q[@]}" -s predict.model=broken.h5 \
  -s predict.output=pred2/p.csv
# model.h5 v2's checksum covers /meta, so the deletion is caught there first
# (a v1 file, whose checksum does not, meets the "no quantiles" check)
grep -qE "capital-gain.*no quantiles|broken.h5: checksum mismatch" "$TMP/err" ||
  { cat "$TMP/err"; fail "message"; }
[[ ! -e pred2/p.csv ]] || fail "output left behind"
pass "quantile scaling: a model without its quantiles is rejected"
