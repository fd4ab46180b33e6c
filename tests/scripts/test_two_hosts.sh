#!/usr/bin/env bash
# test_two_hosts.sh — ranks on two "nodes": rank 1 runs in its own UTS namespace
# with another host name (unshare --uts), as on a cluster where the ranks of one
# job sit on different machines. Every file the ranks write together (hpcml-etl's
# dataset, hpcml-train's predictions.h5, hpcml-predict's staged outputs) must get
# one temp name, rank 0's: a name made from each rank's own host would make each
# "node" create its own file. Checks: the ETL, training and scoring succeed with
# the ranks on two host names, and their outputs equal a 2-rank run's on one (h5diff,
# cmp; the dataset's /meta/config holds its own output path); no temp is left.
# labels: mpi etl train predict
# timeout: 300
# ranks: 2 (on one host name, then rank 1 under another)
# options: gen, etl, train, predict sections written by the script
# skips (exit 77): unshare --uts not permitted (not root)
# Usage: bash test_two_hosts.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
B=$BIN
unshare --uts true 2>/dev/null || skip "unshare --uts is not permitted here"
cat >p.cfg <<'EOF'
gen = { output_dir = "raw"; rows = 6000; seed = 5; shards = 2; positive_fraction = 0.1;
        categorical_columns = 1; missing_fraction = 0.01; };
etl = { input = [ "raw/*.csv" ]; output = "one/ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; min = 0.0; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "one/ds.h5"; output_dir = "one/train"; hidden = [ 8 ]; epochs = 1;
          batch_size = 256; resume = "never"; };
predict = { model = "one/train/model.h5"; input = [ "raw/*.csv" ]; output = "one/p.csv"; };
monitoring = { profile = false; trace = false; };
EOF
q=(-q -c p.cfg)
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-gen" "${q[@]}"
for p in etl train predict; do
  expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-$p" "${q[@]}"
done

# two "nodes": rank 0 on this host, rank 1 in a UTS namespace named node-b
two=(-s etl.output=two/ds.h5 -s train.dataset=two/ds.h5 -s train.output_dir=two/train
     -s predict.model=two/train/model.h5 -s predict.output=two/p.csv)
for p in etl train predict; do
  # a rank that opens another file than its peers waits in the collective open forever
  expect_exit 0 timeout 120 "${MPIRUN[@]}" -np 1 "$B/hpcml-$p" "${q[@]}" "${two[@]}" : \
    -np 1 unshare --uts sh -c 'hostname node-b && exec "$@"' sh "$B/hpcml-$p" "${q[@]}" "${two[@]}"
done
h5diff --exclude-path /meta/config one/ds.h5 two/ds.h5 >/dev/null || fail "the dataset of two host names differs from one host's"
h5diff one/train/predictions.h5 two/train/predictions.h5 >/dev/null ||
  fail "predictions.h5 of two host names differs from one host's"
cmp -s one/p.csv two/p.csv || fail "hpcml-predict's p.csv of two host names differs"
left=$(find . -name '*.tmp.*' | head -3)
[[ -z $left ]] || fail "temps left: $left"
pass "etl, train, predict with ranks on two host names: one file each, equal to one host's"
