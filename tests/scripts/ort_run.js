// ort_run.js — run an ONNX file in ONNX Runtime (the npm package
// onnxruntime-node, CPU) on inputs from a JSON file; write the outputs as JSON.
//   node ort_run.js ORT_PACKAGE_DIR MODEL.onnx INPUTS.json OUT.json [THREADS]
// INPUTS.json: {"NAME": {"type": "float" | "string", "dims": [...], "data": [...]}, ...};
// a float datum null means NaN (a missing value).
'use strict';
const fs = require('fs');
const [pkg, model, inPath, outPath, threadsArg] = process.argv.slice(2);
const ort = require(pkg);

async function main() {
  const spec = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const feeds = {};
  for (const [name, t] of Object.entries(spec)) {
    if (t.type === 'float') {
      const a = Float32Array.from(t.data, (v) => (v === null ? NaN : v));
      feeds[name] = new ort.Tensor('float32', a, t.dims);
    } else {
      feeds[name] = new ort.Tensor('string', t.data.map(String), t.dims);
    }
  }
  const threads = Number(threadsArg || 1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const out = await session.run(feeds);
  const result = {};
  for (const [name, t] of Object.entries(out))
    result[name] = {dims: t.dims, data: Array.from(t.data)};
  result.metadata = session.handler && session.handler.metadata ? session.handler.metadata : null;
  fs.writeFileSync(outPath, JSON.stringify(result));
}
main().catch((e) => { console.error('ort_run: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
