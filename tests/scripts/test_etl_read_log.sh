#!/usr/bin/env bash
# hpcml-etl's messages on several ranks (issue 19 item 14): the read log
# counts each input byte once (the data bytes of the input, the same on 1, 2
# and 4 ranks; boundary scans and reads past a rank's range are not input),
# and a warning that every rank can derive from global counts is printed
# once. (A CR-only file: tests/scripts/test_etl_bad_input.sh, cr_line_ends.)
# ranks: 1, 2, 4.
# labels: mpi etl
# timeout: 120
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl
$PY - "$TMP/in.csv" <<'EOF'
import random, sys
random.seed(19)
with open(sys.argv[1], "w") as f:
    f.write("x,empty,Class\n")
    for i in range(40000):
        f.write(f'{random.uniform(-1, 1):.6f},,{i % 2}\n')
EOF
data_mb=$($PY -c 'import os, sys; h = len(open(sys.argv[1]).readline()); print(f"{(os.path.getsize(sys.argv[1]) - h) / 1e6:.3f}")' "$TMP/in.csv")
cat >"$TMP/c.cfg" <<EOF
etl = {
  input = "$TMP/in.csv";
  columns = ( { name = "x"; }, { name = "empty"; type = "float"; impute = "mean"; } );
};
EOF
for np in 1 2 4; do
  expect_exit 0 timeout 60 "${MPIRUN[@]}" -np $np "$etl" -c "$TMP/c.cfg" -s "etl.output=$TMP/o$np/d.h5"
  got=$(grep -o 'read 40000 records ([0-9.]* MB)' "$TMP/err" | grep -o '[0-9.]* MB' | cut -d' ' -f1)
  want=$(awk -v m="$data_mb" 'BEGIN { printf "%.1f", m }')
  [[ $got == "$want" ]] || { cat "$TMP/err"; fail "np=$np: the read log says $got MB, the input's data is $want MB"; }
  n=$(grep -c "column 'empty' has no values in the train split" "$TMP/err" || true)
  [[ $n -eq 1 ]] || { cat "$TMP/err"; fail "np=$np: the warning printed $n times"; }
done
pass "read log: $want MB of data on 1, 2 and 4 ranks; a global warning printed once"
