// ort_forward.js — times an exported network (hpcml-export --network-only) in ONNX
// Runtime (npm onnxruntime-node, CPU) over float32 feature rows from a raw file.
//   node ort_forward.js ORT_PACKAGE_DIR NET.onnx FEATURES.f32 N_FEATURES THREADS RUNS BATCH
// BATCH 0: all rows in one run; else runs of BATCH rows. Prints JSON: the best and
// the median wall seconds of RUNS passes over all rows (after one warm-up pass).
'use strict';
const fs = require('fs');
const [pkg, model, featPath, nfArg, threadsArg, runsArg, batchArg] = process.argv.slice(2);
const ort = require(pkg);

async function main() {
  const nf = Number(nfArg), runs = Number(runsArg), batch = Number(batchArg);
  const buf = fs.readFileSync(featPath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const rows = x.length / nf;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threadsArg), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const step = batch > 0 ? batch : rows;
  const feeds = [];
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    feeds.push({features: new ort.Tensor('float32', x.subarray(r0 * nf, (r0 + n) * nf), [n, nf])});
  }
  const pass = async () => {
    const t0 = process.hrtime.bigint();
    for (const f of feeds) await session.run(f, ['probabilities']);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  await pass();
  const t = [];
  for (let i = 0; i < runs; i++) t.push(await pass());
  t.sort((a, b) => a - b);
  console.log(JSON.stringify({rows, batch: step, best_s: t[0], median_s: t[(t.length - 1) >> 1]}));
}
main().catch((e) => { console.error('ort_forward: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
