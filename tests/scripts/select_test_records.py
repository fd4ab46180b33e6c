"""select_test_records.py DATASET.h5 OUT.csv CSV...: the raw CSV records of DATASET's
/test split (by /test/row_id: the record's index over the CSV files in sorted order,
blank lines skipped, as hpcml-etl numbers them), with the header, into OUT.csv."""
import sys

import h5py

ds, out, paths = sys.argv[1], sys.argv[2], sorted(sys.argv[3:])
rid = set(h5py.File(ds)["test/row_id"][:].tolist())
rows, header, k = [], None, 0
for path in paths:
    with open(path) as f:
        header = f.readline()
        for line in f:
            if not line.strip():
                continue
            if k in rid:
                rows.append(line)
            k += 1
assert len(rows) == len(rid), (len(rows), len(rid))
open(out, "w").write(header + "".join(rows))
