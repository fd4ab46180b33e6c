#!/usr/bin/env bash
# hpcml-report on a real small run (gen -> etl -> sweep pool -> train, 2 ranks)
# plus a hand-made drift.json (make_drift_json.py, the hpcml-drift v1 contract):
#  - report.html opens in headless Chromium (Debian's chromium) with no console
#    message and no network request from the page (Chromium's net log: every
#    request whose top frame is the file:// page), every section present with
#    non-empty charts in the DOM Chromium built; a PNG screenshot is kept in
#    BUILD/test-artifacts/report.png;
#  - every inline SVG parses as XML (xml.etree); no script, no external URL;
#  - the evaluation tiles equal scikit-learn's ROC AUC / average precision on
#    predictions.h5; drifted columns come first;
#  - the checker itself catches a console error and a network request (a
#    control page that has both);
#  - a corrupt quality.json and a torn metrics.jsonl: exit 2, stderr names the
#    files, the page is still written with the other sections and says why;
#  - an empty run folder: exit 0, each section says which file is missing.
# labels: report browser mpi
# timeout: 400
# ranks: 1 (report), 2 (the run it reports on)
# options: configs written by the script; -s etl.output, gen.output_dir, report.drift,
#   report.output, sweep.output_dir, train.output_dir
# skips (exit 77): no chromium
source "$(dirname "$0")/lib.sh" "$@"
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (scripts/setup.sh --test)"; exit 77; }
for p in gen etl sweep train report; do need_exe "$BIN/hpcml-$p"; done
need_py_module sklearn

R=$TMP/run
cat >"$TMP/run.cfg" <<EOF
gen = { output_dir = "$R/raw"; rows = 6000; shards = 2; positive_fraction = 0.05;
        missing_fraction = 0.01; categorical_columns = 1; };
etl = { input = [ "$R/raw/*.csv" ]; output = "$R/dataset.h5";
        columns = ( { name = "Cat1"; type = "category"; required = false; },
                    { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "$R/dataset.h5"; output_dir = "$R/train"; hidden = [ 16 ];
          batch_size = 256; epochs = 4; resume = "never"; early_stopping_metric = "val_pr_auc"; };
sweep = { trials = 4; max_t = 3; grace_period = 1; reduction_factor = 2.0; metric = "val_pr_auc";
          output_dir = "$R/sweep";
          space = ( { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 1e-1; } ); };
monitoring = { alerts = ( { metric = "val_loss"; threshold = 0.0; direction = "above";
                            action = "warn"; } ); };
report = { output = "$R/report.html"; drift = "$R/predict/drift.json"; };
EOF
run() { "${MPIRUN[@]}" -np 2 "$@" -q -c "$TMP/run.cfg"; }
run "$BIN/hpcml-gen" || fail "hpcml-gen"
run "$BIN/hpcml-etl" || fail "hpcml-etl"
run "$BIN/hpcml-sweep" --pool || fail "hpcml-sweep"
run "$BIN/hpcml-train" || fail "hpcml-train"
mkdir -p "$R/predict"
$PY "$SRC/tests/scripts/make_drift_json.py" "$R/predict/drift.json"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-report" -c "$TMP/run.cfg"
[[ -s $R/report.html ]] || fail "no report.html"
ls "$R" | grep -q '\.tmp\.' && fail "a temp file was left behind"
pass "a run's report written ($(stat -c %s "$R/report.html") bytes)"

# browse PAGE TAG: Chromium's DOM, screenshot, console messages and net log of PAGE
browse() {
  local page=$1 tag=$2 flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --hide-scrollbars --enable-logging=stderr --v=0)
  rm -rf "$TMP/ud-$tag"
  timeout 120 chromium "${flags[@]}" --user-data-dir="$TMP/ud-$tag" --window-size=1300,9000 \
    --log-net-log="$TMP/net-$tag.json" --dump-dom "file://$page" >"$TMP/dom-$tag.html" \
    2>"$TMP/console-$tag.txt" || fail "chromium --dump-dom $page"
  rm -rf "$TMP/ud-$tag"
  timeout 120 chromium "${flags[@]}" --user-data-dir="$TMP/ud-$tag" --window-size=1300,9000 \
    --screenshot="$TMP/shot-$tag.png" "file://$page" >/dev/null 2>>"$TMP/console-$tag.txt" ||
    fail "chromium --screenshot $page"
}

# What the page did in the browser: console lines, and the requests whose top frame
# is the file:// page (the browser's own update/account requests have another one).
cat >"$TMP/page_traffic.py" <<'EOF'
import json, re, sys
console = [l for l in open(sys.argv[1], errors="replace") if ":CONSOLE" in l]
net = json.load(open(sys.argv[2]))
names = {v: k for k, v in net["constants"]["logEventTypes"].items()}
page = set()
for e in net["events"]:
    p = e.get("params", {})
    if names.get(e["type"]) == "URL_REQUEST_START_JOB" and \
            str(p.get("network_isolation_key", "")).startswith("file://") and \
            not p.get("url", "").startswith(("file:", "data:")):
        page.add(p["url"])
print(json.dumps({"console": console, "requests": sorted(page)}))
EOF

# The checker must see what it is meant to catch: a page with both.
cat >"$TMP/control.html" <<'EOF'
<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">
<script>console.error("control page error");</script></body></html>
EOF
browse "$TMP/control.html" control
$PY "$TMP/page_traffic.py" "$TMP/console-control.txt" "$TMP/net-control.json" >"$TMP/t.json"
$PY - "$TMP/t.json" <<'EOF' || fail "the browser checks do not see a console error or a request"
import json, sys
t = json.load(open(sys.argv[1]))
assert any("control page error" in l for l in t["console"]), t
assert t["requests"] == ["http://127.0.0.1:9/x.png"], t
EOF
pass "control page: the console error and the network request are caught"

browse "$R/report.html" report
mkdir -p "$BUILD/test-artifacts"
cp "$TMP/shot-report.png" "$BUILD/test-artifacts/report.png"
$PY "$TMP/page_traffic.py" "$TMP/console-report.txt" "$TMP/net-report.json" >"$TMP/t.json"
$PY - "$TMP/t.json" "$R/report.html" "$TMP/dom-report.html" "$TMP/shot-report.png" "$R" <<'EOF' ||
import json, re, sys, struct, xml.etree.ElementTree as ET
import h5py, numpy as np
from sklearn import metrics as skm
t = json.load(open(sys.argv[1]))
assert not t["console"], t["console"]
assert not t["requests"], t["requests"]
html, dom = open(sys.argv[2]).read(), open(sys.argv[3]).read()
png = open(sys.argv[4], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50000, len(png)
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (1300, 9000), (w, h)
# self-contained: no script, no external reference
assert "<script" not in html.lower()
refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
assert all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")]
assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", html)
# every inline SVG is XML
svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
ns = "{http://www.w3.org/2000/svg}"
for s in svgs:
    ET.fromstring(s)
# the sections, as Chromium parsed them, each with non-empty charts
sections = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', dom, re.S))
want = ["data", "sweep", "training", "evaluation", "performance", "drift"]
assert list(sections) == want, list(sections)
for name in want:
    body = sections[name]
    assert 'class="missing"' not in body and 'class="corrupt"' not in body, name
    charts = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert charts, f"section {name} has no chart"
    for c in charts:
        root = ET.fromstring(c)
        def walk(e):  # data marks only: not the axes, not the legend
            for c in e:
                if c.get("class") in ("axes", "legend"):
                    continue
                yield c
                yield from walk(c)
        marks = [e for e in walk(root) if e.tag in (ns + "polyline", ns + "circle") or
                 (e.tag == ns + "rect" and e.get("fill", "").startswith("#"))]
        assert marks, f"an empty chart in {name}: {root.get('id')}"
print(len(svgs), "SVGs parse; sections", want)
# the evaluation numbers equal sklearn's on the predictions file
f = h5py.File(sys.argv[5] + "/train/predictions.h5", "r")
y, s = f["label"][:], f["score"][:].astype(np.float64)
tiles = dict((l, v) for v, l in re.findall(r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', html))
auc, ap = skm.roc_auc_score(y, s), skm.average_precision_score(y, s)
assert tiles["ROC AUC"] == f"{auc:.4g}", (tiles["ROC AUC"], auc)
assert tiles["PR AUC (average precision)"] == f"{ap:.4g}", (tiles, ap)
pred = (s >= f.attrs["threshold"]).astype(int)
f1 = skm.f1_score(y, pred)
assert tiles["F1 at threshold 0.5"] == f"{f1:.4g}", (tiles, f1)
# drift: drifted columns first
rows = re.findall(r'<tr( class="drifted")?><td class="t">([^<]*)</td>', sections["drift"])
assert [n for _, n in rows] == ["channel", "amount", "V1", "V2"] or \
       [n for _, n in rows][:2] in (["amount", "channel"], ["channel", "amount"]), rows
assert [bool(d) for d, _ in rows] == [True, True, False, False], rows
assert "Alerts" in sections["training"]
EOF
  fail "report.html in the browser"
pass "Chromium: no console message, no request; 6 sections with charts; SVGs are XML; AUC/AP/F1 = sklearn's; screenshot in $BUILD/test-artifacts/report.png"

# corrupt inputs: the page is still written, the files are named
B=$TMP/bad
cp -r "$R" "$B"
sed "s|$R|$B|g" "$TMP/run.cfg" >"$TMP/bad.cfg"
echo '{"format": "hpcml-etl-quality", "rows_read": ' >"$B/dataset.quality.json"
{ head -n 2 "$R/train/metrics.jsonl"; sed -n 3p "$R/train/metrics.jsonl" | head -c 40; } \
  >"$B/train/metrics.jsonl" # a torn third line
rm "$B/report.html"
expect_exit 2 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-report" -c "$TMP/bad.cfg"
grep -q "$B/dataset.quality.json" "$TMP/err" || { cat "$TMP/err"; fail "stderr does not name quality.json"; }
grep -q "$B/train/metrics.jsonl.*line 3" "$TMP/err" || { cat "$TMP/err"; fail "stderr does not name metrics.jsonl's line"; }
$PY - "$B/report.html" <<'EOF' || fail "the report of a run with corrupt inputs"
import re, sys
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, re.S))
assert 'class="corrupt"' in sec["data"] and "quality.json" in sec["data"], sec["data"][:500]
assert "line 1, column" in sec["data"] or "line 2" in sec["data"], sec["data"][:500]
assert 'class="corrupt"' in sec["training"] and "metrics.jsonl" in sec["training"]
for name in ("sweep", "evaluation", "drift"):
    assert "<svg" in sec[name] and 'class="corrupt"' not in sec[name], name
EOF
pass "corrupt quality.json and torn metrics.jsonl: exit 2, both named, the rest still drawn"

# nothing run yet: every section says what is missing
mkdir -p "$TMP/empty"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-report" -c "$TMP/run.cfg" \
  -s "etl.output=$TMP/empty/dataset.h5" -s "train.output_dir=$TMP/empty/train" \
  -s "sweep.output_dir=$TMP/empty/sweep" -s "gen.output_dir=$TMP/empty/raw" \
  -s "report.drift=$TMP/empty/drift.json" -s "report.output=$TMP/empty/report.html"
$PY - "$TMP/empty/report.html" <<'EOF' || fail "the report of an empty run"
import re, sys
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, re.S))
for name in ("data", "sweep", "training", "evaluation", "performance", "drift"):
    assert 'class="missing"' in sec[name] and "does not exist" in sec[name], name
    assert "<svg" not in sec[name], name
EOF
pass "empty run: exit 0, each section names its missing input"
