/**
 * The exchange encodings measured against each other (docs/decisions.md): a worker sends batches of small records
 * to the main thread, which decodes them. Structured clone (the engine's fallback for records that are not flat), v8.serialize into a transferred
 * buffer, JSON, and columnar typed arrays with a string dictionary (the engine's choice for flat records).
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
const { n, batch, mode } = workerData;
const records = Array.from({ length: batch }, (_, i) => ({ id: i, key: 'device-' + (i % 100), v: i * 0.5, ts: 1700000000000 + i }));
for (let sent = 0; sent < n; sent += batch) {
  if (mode === 'clone') parentPort.postMessage(records);
  else if (mode === 'v8') { const b = v8.serialize(records); const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length); parentPort.postMessage(ab, [ab]); }
  else if (mode === 'json') parentPort.postMessage(JSON.stringify(records));
  else {
    const id = new Float64Array(batch), v = new Float64Array(batch), ts = new Float64Array(batch), key = new Uint16Array(batch);
    const dict = new Map(); const words = [];
    for (let i = 0; i < batch; i++) { const r = records[i]; id[i] = r.id; v[i] = r.v; ts[i] = r.ts; let k = dict.get(r.key); if (k === undefined) { k = words.length; dict.set(r.key, k); words.push(r.key); } key[i] = k; }
    parentPort.postMessage({ id, v, ts, key, words }, [id.buffer, v.buffer, ts.buffer, key.buffer]);
  }
}
parentPort.postMessage('done');
`;

/** Records per second from a worker to this thread, decoded into objects, for one encoding. */
export function measureEncoding(mode: 'clone' | 'v8' | 'json' | 'columnar', n: number, batch = 1024): Promise<number> {
  return new Promise((resolve, reject) => {
    const { deserialize } = require_v8();
    const w = new Worker(WORKER, { eval: true, workerData: { n, batch, mode } });
    let got = 0;
    let sum = 0;
    const start = performance.now();
    w.on('message', (m: any) => {
      if (m === 'done') {
        const s = (performance.now() - start) / 1000;
        void w.terminate();
        if (sum < 0) reject(new Error('unreachable'));
        resolve(got / s);
        return;
      }
      let recs: Array<{ id: number; v: number }>;
      if (mode === 'clone') recs = m;
      else if (mode === 'v8') recs = deserialize(Buffer.from(m));
      else if (mode === 'json') recs = JSON.parse(m);
      else {
        recs = new Array(m.id.length);
        for (let i = 0; i < m.id.length; i++) recs[i] = { id: m.id[i], key: m.words[m.key[i]], v: m.v[i], ts: m.ts[i] } as never;
      }
      for (const r of recs) sum += r.v;
      got += recs.length;
    });
    w.on('error', reject);
  });
}

let v8mod: typeof import('node:v8') | undefined;
function require_v8(): typeof import('node:v8') {
  return v8mod!;
}
export async function loadV8(): Promise<void> {
  v8mod = await import('node:v8');
}
