#!/usr/bin/env bash
# hostile_probe.sh — the hostile pass of issue 19 (cases beyond its 14 defects),
# run by hand, not by ctest (several minutes; some cases mount a small tmpfs and
# need root):   bash tests/scripts/hostile_probe.sh BUILD_DIR SRC_DIR [CASE-PATTERN]
# Prints one line per case: id | exit code | what was left | first error line.
# It asserts nothing: the outcomes are judged in docs/reliability.md, and the
# cases that hold a promise are asserted by test_trust_hostile.sh.
# Every command runs under `timeout 120` (a hang shows as exit 124).
source "$(dirname "$0")/lib.sh" "$@"
PAT=${3:-.}
B=$BIN
cd "$TMP"
T() { timeout 120 "$@"; }
np() { local n=$1; shift; T "${MPIRUN[@]}" -np "$n" "$@"; }
# rec ID RC NOTE: one line of the table (stderr's first error line appended)
rec() {
  local e
  e=$(grep -m1 -i "error\|warning" "$TMP/err" 2>/dev/null | cut -c1-160 || true)
  printf '%-6s | rc=%-3s | %s | %s\n' "$1" "$2" "$3" "$e"
}
want() { [[ $1 =~ $PAT ]]; }
temps() { find "$@" -name '*.tmp.*' 2>/dev/null | wc -l; }
cat >base.cfg <<'EOF'
gen = { output_dir = "raw"; rows = 3000; seed = 11; shards = 2; positive_fraction = 0.2;
        categorical_columns = 1; missing_fraction = 0.01; };
etl = { input = [ "raw/*.csv" ]; output = "ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; min = 0.0; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "ds.h5"; output_dir = "train"; hidden = [ 8 ]; epochs = 2;
          batch_size = 128; resume = "auto"; evaluate = true; };
predict = { model = "train/model.h5"; input = [ "raw/*.csv" ]; output = "pred/p.csv"; };
sweep = { trials = 3; max_t = 2; grace_period = 1; reduction_factor = 2.0; output_dir = "sweep";
          space = ( { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 1e-1; } ); };
report = { output = "report.html"; };
monitoring = { profile = false; trace = false; };
EOF
q=(-q -c base.cfg)
run() { "$@" >"$TMP/out" 2>"$TMP/err"; }
rc=0; run np 2 "$B/hpcml-gen" "${q[@]}" || rc=$?; ((rc == 0)) || { cat err; fail "base gen"; }
rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" || rc=$?; ((rc == 0)) || { cat err; fail "base etl"; }
rc=0; run np 1 "$B/hpcml-train" "${q[@]}" || rc=$?; ((rc == 0)) || { cat err; fail "base train"; }
head -1 raw/part-00000.csv >header.txt
echo "case   | exit   | left | first message"

# ---------------------------------------------------------------- file-size limit
if want fsz; then
  for p in gen etl train predict report; do
    rm -rf "fsz_$p"; mkdir "fsz_$p"
    rc=0
    # the limit inside the rank (on mpirun it would kill mpirun's own shared-memory setup)
    lim=64; [[ $p == gen || $p == etl ]] || lim=16; [[ $p == report ]] && lim=4
    case $p in
      gen) args=(-s gen.output_dir=fsz_gen) ;;
      etl) args=(-s etl.output=fsz_etl/d.h5) ;;
      train) args=(-s train.output_dir=fsz_train) ;;
      predict) args=(-s predict.output=fsz_predict/p.csv) ;;
      report) args=(-s report.output=fsz_report/r.html) ;;
    esac
    run T "${MPIRUN[@]}" -np 1 bash -c "ulimit -f $lim; exec \"\$0\" \"\$@\"" "$B/hpcml-$p" "${q[@]}" "${args[@]}" || rc=$?
    rec "fsz-$p" $rc "temps=$(temps "fsz_$p") files=$(ls "fsz_$p" | tr '\n' ' ')"
  done
fi

# ---------------------------------------------------------------- full file system (tmpfs)
if want full && mkdir -p full && mount -t tmpfs -o size=300k tmpfs full 2>/dev/null; then
  for p in gen etl train predict; do
    rm -rf full/*
    rc=0
    case $p in
      gen) run np 2 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=full/raw || rc=$? ;;
      etl) run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=full/d.h5 || rc=$? ;;
      train) run np 2 "$B/hpcml-train" "${q[@]}" -s train.output_dir=full/t -s 'train.hidden=[256]' || rc=$? ;;
      predict) run np 2 "$B/hpcml-predict" "${q[@]}" -s predict.output=full/p.csv || rc=$? ;;
    esac
    rec "full-$p" $rc "temps=$(temps full) used=$(du -sk full | cut -f1)k"
  done
  umount full
fi

# ---------------------------------------------------------------- read-only / missing folders
if want ro; then
  mkdir -p rodir && mount -t tmpfs -o size=1m,ro tmpfs rodir 2>/dev/null || chmod 555 rodir
  rc=0; run np 1 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=rodir/raw || rc=$?; rec ro-gen $rc ""
  rc=0; run np 1 "$B/hpcml-etl" "${q[@]}" -s etl.output=rodir/d.h5 || rc=$?; rec ro-etl $rc ""
  rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=rodir/t || rc=$?; rec ro-train $rc ""
  rc=0; run np 1 "$B/hpcml-predict" "${q[@]}" -s predict.output=rodir/p.csv || rc=$?; rec ro-predict $rc ""
  rc=0; run np 1 "$B/hpcml-report" "${q[@]}" -s report.output=rodir/r.html || rc=$?; rec ro-report $rc ""
  rc=0; run np 1 "$B/hpcml-sweep" "${q[@]}" -s sweep.output_dir=rodir/s --pool || rc=$?; rec ro-sweep $rc ""
  umount rodir 2>/dev/null || true
  rc=0; run np 1 "$B/hpcml-etl" "${q[@]}" -s etl.output=no/such/dir/d.h5 || rc=$?; rec nodir-etl $rc "$(ls -d no 2>/dev/null)"
  rc=0; run np 1 "$B/hpcml-predict" "${q[@]}" -s predict.output=no2/x/p.csv || rc=$?; rec nodir-pred $rc "$(ls -d no2 2>/dev/null)"
  rc=0; run np 1 "$B/hpcml-report" "${q[@]}" -s report.output=no3/x/r.html || rc=$?; rec nodir-rep $rc "$(ls -d no3 2>/dev/null)"
  echo x >afile
  rc=0; run np 1 "$B/hpcml-etl" "${q[@]}" -s etl.output=afile/d.h5 || rc=$?; rec file-as-dir $rc ""
fi

# ---------------------------------------------------------------- symlinks
if want sym; then
  mkdir -p real && ln -sfn real linkdir
  rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=linkdir/d.h5 || rc=$?
  rec sym-dir $rc "real/: $(ls real | tr '\n' ' ') temps=$(temps real)"
  ln -sfn /nonexistent/target.h5 dangling.h5
  rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=dangling.h5 || rc=$?
  rec sym-dangling $rc "$(ls -l dangling.h5 | cut -c1-1)"
  cp ds.h5 precious.h5; ln -sfn precious.h5 out_link.h5
  rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=out_link.h5 -s etl.split_seed=99 || rc=$?
  rec sym-to-file $rc "link=$(stat -c %F out_link.h5) precious_same=$(cmp -s ds.h5 precious.h5 && echo y || echo n)"
  # predict output = one of its inputs / the model
  cp raw/part-00000.csv pin.csv; s=$(md5sum <pin.csv)
  rc=0; run np 1 "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["pin.csv"]' -s predict.output=pin.csv || rc=$?
  rec pred-out=in $rc "input_same=$([[ $(md5sum <pin.csv) == "$s" ]] && echo y || echo n)"
  cp train/model.h5 m.h5; s=$(md5sum <m.h5)
  rc=0; run np 1 "$B/hpcml-predict" "${q[@]}" -s predict.model=m.h5 -s predict.output=m.h5 || rc=$?
  rec pred-out=model $rc "model_same=$([[ $(md5sum <m.h5) == "$s" ]] && echo y || echo n)"
  cp train/metrics.jsonl mj.jsonl; s=$(md5sum <train/metrics.jsonl)
  rc=0; run np 1 "$B/hpcml-report" "${q[@]}" -s train.output_dir=train -s report.output=train/metrics.jsonl || rc=$?
  rec rep-out=in $rc "metrics_same=$([[ $(md5sum <train/metrics.jsonl) == "$s" ]] && echo y || echo n)"
  cp mj.jsonl train/metrics.jsonl
  rc=0; run np 1 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=ds.h5 || rc=$?
  rec gen-out=file $rc "$(stat -c %F ds.h5)"
  s=$(md5sum <ds.h5)
  rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=. -s train.dataset=ds.h5 -s train.epochs=1 || rc=$?
  rec train-out=. $rc "ds_same=$([[ $(md5sum <ds.h5) == "$s" ]] && echo y || echo n)"
  rm -rf checkpoints metrics.jsonl model.h5 best.h5 evaluation.json predictions.h5 ./*.train.* 2>/dev/null || true
fi

# ---------------------------------------------------------------- temp folders
if want tmpdir; then
  rc=0; TMPDIR=/nonexistent run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=tmpd.h5 || rc=$?; rec tmpdir-etl $rc ""
  rc=0; TMPDIR=/nonexistent run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tmpd_t || rc=$?; rec tmpdir-train $rc ""
  rc=0; TMPDIR=/nonexistent run np 1 "$B/hpcml-predict" "${q[@]}" -s predict.output=tmpd/p.csv || rc=$?; rec tmpdir-pred $rc ""
fi

# ---------------------------------------------------------------- odd inputs
if want input; then
  : >zero.csv
  cp header.txt hdr.csv
  cp header.txt nonl.csv; printf '%s' "$(sed -n 2p raw/part-00000.csv)" >>nonl.csv
  { cat header.txt; sed -n '2,50p' raw/part-00000.csv | sed 's/c[0-9]*,/\xff\xfe,/'; } >bin.csv
  { cat header.txt; sed -n '2,50p' raw/part-00000.csv; head -c 3000000 /dev/zero | tr '\0' 7; echo; } >long.csv
  { printf '\xef\xbb\xbf'; cat header.txt; sed -n '2,50p' raw/part-00000.csv; } >bom.csv
  { cat header.txt; sed -n '2,50p' raw/part-00000.csv; printf 'a,b\0c,d\n'; } >nul.csv
  for f in zero hdr nonl bin long bom nul; do
    rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" -s "etl.input=[\"$f.csv\"]" -s etl.output=in_$f.h5 -s etl.on_bad_value=drop || rc=$?
    rec "etl-$f" $rc "out=$([[ -e in_$f.h5 ]] && echo y || echo n)"
    rc=0; run np 2 "$B/hpcml-predict" "${q[@]}" -s "predict.input=[\"$f.csv\"]" -s predict.output=pin_$f/p.csv -s predict.on_bad_row=skip || rc=$?
    rec "pred-$f" $rc "out=$([[ -e pin_$f/p.csv ]] && wc -l <pin_$f/p.csv || echo n)"
  done
  # more ranks than rows
  { cat header.txt; sed -n '2,4p' raw/part-00000.csv; } >three.csv
  rc=0; run np 4 "$B/hpcml-etl" "${q[@]}" -s 'etl.input=["three.csv"]' -s etl.output=three.h5 || rc=$?
  rec etl-np4-3rows $rc "out=$([[ -e three.h5 ]] && echo y || echo n)"
  rc=0; run np 4 "$B/hpcml-predict" "${q[@]}" -s 'predict.input=["three.csv"]' -s predict.output=p3/p.csv || rc=$?
  rec pred-np4-3rows $rc "out=$([[ -e p3/p.csv ]] && wc -l <p3/p.csv || echo n)"
  rc=0; run np 4 "$B/hpcml-gen" "${q[@]}" -s gen.rows=3 -s gen.shards=2 -s gen.output_dir=g3 || rc=$?
  rec gen-np4-3rows $rc "$(cat g3/*.csv 2>/dev/null | wc -l) lines"
  $PY "$SRC/tests/scripts/make_train_dataset.py" tiny.h5 --train 3 --val 2 --test 2 --features 3 --seed 1 >/dev/null
  rc=0; run np 4 "$B/hpcml-train" "${q[@]}" -s train.dataset=tiny.h5 -s train.output_dir=t3 || rc=$?
  rec train-np4-3rows $rc "$(ls t3 2>/dev/null | tr '\n' ' ')"
  rc=0; run np 4 "$B/hpcml-train" "${q[@]}" -s train.dataset=tiny.h5 -s train.output_dir=t3s -s train.streaming=true || rc=$?
  rec train-np4-3rows-stream $rc "$(ls t3s 2>/dev/null | tr '\n' ' ')"
  rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.dataset=zero.csv -s train.output_dir=tz || rc=$?
  rec train-ds-zero $rc ""
  printf '\xff\xfe\n{"epoch":1}\n' >tbad.jsonl; mkdir -p rbad; cp tbad.jsonl rbad/metrics.jsonl
  rc=0; run np 1 "$B/hpcml-report" "${q[@]}" -s train.output_dir=rbad -s report.output=rbad.html || rc=$?
  rec report-nonutf8 $rc "out=$([[ -e rbad.html ]] && echo y || echo n)"
fi

# ---------------------------------------------------------------- huge / odd numbers
if want num; then
  for kv in gen.rows=0 gen.rows=9223372036854775807 gen.shards=0 gen.shards=100000000 \
    gen.category_levels=2147483647 gen.missing_fraction=1.0 gen.positive_fraction=0.0; do
    rm -rf gnum; rc=0; run np 2 "$B/hpcml-gen" "${q[@]}" -s gen.output_dir=gnum -s "$kv" || rc=$?
    rec "num-$kv" $rc "files=$(ls gnum 2>/dev/null | wc -l)"
  done
  for kv in train.batch_size=2147483647 train.epochs=2147483647 'train.hidden=[1000000000]' \
    train.lr=1e308 train.lr=1e-320 train.seed=-1 train.weight_decay=1e300 'train.hidden=[0]' \
    train.keep_checkpoints=1000000 train.grad_clip_norm=1e-300 train.checkpoint_every=0 train.dropout=0.99 train.batch_size=1; do
    rm -rf tnum; rc=0; run np 2 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tnum -s "$kv" -s train.epochs=1 || rc=$?
    rec "num-$kv" $rc "$(ls tnum 2>/dev/null | tr '\n' ' ')"
  done
  for kv in etl.chunk_rows=1 etl.train_fraction=1.0 etl.val_fraction=0.999999 \
    etl.split_seed=9200000000000000000 etl.read_buffer_mb=1 etl.read_buffer_mb=65536 etl.min_records=9000000000000000; do
    rc=0; run np 2 "$B/hpcml-etl" "${q[@]}" -s etl.output=enum.h5 -s "$kv" || rc=$?
    rec "num-$kv" $rc ""
  done
  for kv in sweep.trials=0 sweep.trials=2147483647 sweep.max_t=1e300 sweep.reduction_factor=1.0 \
    sweep.heartbeat_timeout_s=1e300 sweep.lock_stale_s=0; do
    rm -rf snum; rc=0; run np 1 "$B/hpcml-sweep" "${q[@]}" -s sweep.output_dir=snum -s "$kv" --status || rc=$?
    rec "num-$kv" $rc ""
  done
fi

# ---------------------------------------------------------------- concurrent / changing state
if want conc; then
  # two trainings into one output_dir at once
  rm -rf tc
  np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tc -s train.epochs=4 -s train.seed=1 >tc1.log 2>&1 &
  a=$!
  np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tc -s train.epochs=4 -s train.seed=2 >tc2.log 2>&1 &
  b=$!
  ra=0; wait $a || ra=$?; rb=0; wait $b || rb=$?
  cp tc2.log err; rec two-train "$ra/$rb" "metrics lines=$(wc -l <tc/metrics.jsonl) temps=$(temps tc)"
  grep -m1 -i error tc1.log | cut -c1-160 || true
  # a changed config between attempts of one output_dir
  rm -rf tcfg
  rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tcfg -s train.epochs=1 || rc=$?
  for kv in 'train.hidden=[16]' train.batch_size=64 train.lr=0.5 train.seed=77 train.weight_decay=0.1 \
    train.optimizer=\"sgd\" train.dropout=0.5 train.streaming=true train.class_weights=\"dataset\"; do
    rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tcfg -s train.epochs=2 -s "$kv" || rc=$?
    rec "resume-$kv" $rc "$(grep -c . tcfg/metrics.jsonl) metric lines"
    rm -rf tcfg; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=tcfg -s train.epochs=1 || true
  done
  # the sweep journal replaced / removed mid-run
  for how in remove replace; do
    rm -rf sj
    np 2 "$B/hpcml-sweep" "${q[@]}" -s sweep.output_dir=sj -s sweep.trials=4 -s sweep.max_t=3 --pool >sj.log 2>&1 &
    p=$!
    for _ in $(seq 1 100); do grep -q '"event":"result"' sj/journal.jsonl 2>/dev/null && break; sleep 0.1; done
    if [[ $how == remove ]]; then mv sj/journal.jsonl sj/journal.old; else
      cp sj/journal.jsonl sj/j.new; mv sj/j.new sj/journal.jsonl; fi
    rc=0; wait $p || rc=$?
    cp sj.log err; rec "journal-$how" $rc "$(wc -l <sj/journal.jsonl 2>/dev/null) lines; status: $(T "$B/hpcml-sweep" "${q[@]}" -s sweep.output_dir=sj -s sweep.trials=4 -s sweep.max_t=3 --status 2>&1 | tail -1 | cut -c1-80)"
  done
  # model.h5 swapped while hpcml-predict runs (4 ranks)
  rc=0; run np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=t2 -s train.seed=5 -s 'train.hidden=[4]' || rc=$?
  big=(); for i in 1 2 3 4 5 6; do big+=("\"raw/part-0000$((i % 2)).csv\""); done
  cp train/model.h5 swap.h5
  np 4 "$B/hpcml-predict" "${q[@]}" -s predict.model=swap.h5 -s predict.output=psw/p.csv >psw.log 2>&1 &
  p=$!
  sleep 0.3; cp t2/model.h5 swap.new && mv swap.new swap.h5
  rc=0; wait $p || rc=$?
  cp psw.log err; rec model-swap $rc "$(ls psw 2>/dev/null | tr '\n' ' ')"
fi
if want grow; then
  # an input that grows / shrinks while the ETL reads it
  { cat header.txt; for _ in $(seq 1 40); do tail -n +2 raw/part-00000.csv; done; } >grow.csv
  cp grow.csv shrink.csv
  np 2 "$B/hpcml-etl" "${q[@]}" -s 'etl.input=["grow.csv"]' -s etl.output=grow.h5 >grow.log 2>&1 &
  p=$!; sleep 1.0; sed -n '2,20000p' grow.csv >>grow.csv
  rc=0; wait $p || rc=$?; cp grow.log err; rec input-grows $rc "out=$([[ -e grow.h5 ]] && echo y || echo n)"
  np 2 "$B/hpcml-etl" "${q[@]}" -s 'etl.input=["shrink.csv"]' -s etl.output=shrink.h5 >shrink.log 2>&1 &
  p=$!; sleep 1.0; truncate -s 1000000 shrink.csv
  rc=0; wait $p || rc=$?; cp shrink.log err; rec input-shrinks $rc "out=$([[ -e shrink.h5 ]] && echo y || echo n)"
fi

# ---------------------------------------------------------------- signals at random moments, then a re-run
if want sig; then
  for p in gen etl train predict sweep; do
    for s in TERM KILL; do
      for d in 0.4 1.2; do
        dir=sig_${p}_${s}_$d; rm -rf "$dir"; mkdir -p "$dir"
        case $p in
          gen) args=(-s gen.output_dir=$dir/raw -s gen.rows=200000) ;;
          etl) args=(-s 'etl.input=["grow.csv"]' -s etl.output=$dir/d.h5) ;;
          train) args=(-s train.output_dir=$dir/t -s train.epochs=3) ;;
          predict) args=(-s 'predict.input=["grow.csv"]' -s predict.output=$dir/p.csv) ;;
          sweep) args=(-s sweep.output_dir=$dir/s --pool) ;;
        esac
        "${MPIRUN[@]}" -np 2 "$B/hpcml-$p" "${q[@]}" "${args[@]}" >"$dir.log" 2>&1 &
        pid=$!
        sleep "$d"
        # the ranks are mpirun's children (by parent pid: only what this script started)
        for k in $(pgrep -P "$pid"); do kill -s "$s" "$k" 2>/dev/null || true; done
        r1=0; wait $pid || r1=$?
        r2=0; run np 2 "$B/hpcml-$p" "${q[@]}" "${args[@]}" || r2=$?
        rec "sig-$p-$s-$d" "$r1>$r2" "temps=$(temps "$dir") $(ls "$dir" | tr '\n' ' ')"
      done
    done
  done
fi
