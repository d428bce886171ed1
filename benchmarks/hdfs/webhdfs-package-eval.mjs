// Measures the npm `webhdfs` package (1.2.0) against the real HDFS: the evidence behind docs/decisions.md
// "Avro and HDFS". Not a dependency of the project: install it somewhere else and point at it, e.g.
//   npm install --prefix /tmp/webhdfs-eval webhdfs@1.2.0
//   WEBHDFS_PKG=/tmp/webhdfs-eval/node_modules/webhdfs node benchmarks/hdfs/webhdfs-package-eval.mjs
// Needs the dev services (`npx millrace dev up`). Prints one line per check.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);
const WebHDFS = require(process.env.WEBHDFS_PKG ?? 'webhdfs');
const url = new URL(process.env.MILLRACE_WEBHDFS_URL ?? 'http://127.0.0.1:9870');
const user = process.env.MILLRACE_HDFS_USER ?? 'root';
const client = WebHDFS.createClient({ host: url.hostname, port: url.port, user });
const dir = `/millrace-test/webhdfs-eval-${randomUUID().slice(0, 8)}`;
const api = (p, op, extra = '') => `${url.origin}/webhdfs/v1${p}?op=${op}&user.name=${user}${extra}`;
const raw = async (p) => { const r = await fetch(api(p, 'OPEN')); return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : `HTTP ${r.status}`; };
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, j) => setTimeout(() => j(new Error(`${what}: no callback within ${ms} ms`)), ms))]);
const cb = (fn) => new Promise((resolve) => fn((err, res) => resolve({ err, res })));
const report = (name, ok, detail) => console.log(`${ok ? 'OK  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);

await fetch(api(dir, 'MKDIRS'), { method: 'PUT' });
const payload = Buffer.alloc(3 * 1024 * 1024, 7);

// 1. writeFile (two-step CREATE through `request`)
{
  const t = Date.now();
  const r = await withTimeout(cb((done) => client.writeFile(`${dir}/a.bin`, payload, done)), 60_000, 'writeFile').catch((e) => ({ err: e }));
  const back = await raw(`${dir}/a.bin`);
  report('writeFile 3 MiB', !r.err && Buffer.isBuffer(back) && back.equals(payload), r.err ? String(r.err.message ?? r.err) : `${Date.now() - t} ms, read back ${Buffer.isBuffer(back) ? back.length : back} bytes`);
}
// 2. appendFile (two-step APPEND)
{
  const r = await withTimeout(cb((done) => client.appendFile(`${dir}/a.bin`, Buffer.from('tail'), done)), 60_000, 'appendFile').catch((e) => ({ err: e }));
  const back = await raw(`${dir}/a.bin`);
  report('appendFile', !r.err && Buffer.isBuffer(back) && back.length === payload.length + 4, r.err ? String(r.err.message ?? r.err) : `length now ${Buffer.isBuffer(back) ? back.length : back}`);
}
// 3. createWriteStream fed with write() calls (not pipe). The package throws from inside its HTTP callback, which
// would kill the process: catch it here to report it.
{
  let uncaught;
  const onUncaught = (e) => { uncaught = e; };
  process.on('uncaughtException', onUncaught);
  const r = await new Promise((resolve) => {
    process.once('uncaughtException', (e) => resolve({ err: new Error(`uncaught exception (would crash the process): ${e.message}`) }));
    try {
      const ws = client.createWriteStream(`${dir}/b.bin`);
      ws.on('error', (e) => resolve({ err: e }));
      ws.on('finish', () => resolve({}));
      ws.write(Buffer.from('hello '));
      ws.end(Buffer.from('world'));
    } catch (e) { resolve({ err: e }); }
    setTimeout(() => resolve({ err: new Error('no finish within 30 s') }), 30_000).unref();
  });
  process.off('uncaughtException', onUncaught);
  void uncaught;
  const back = await raw(`${dir}/b.bin`);
  report('createWriteStream + write()', !r.err && Buffer.isBuffer(back) && back.toString() === 'hello world', r.err ? String(r.err.message ?? r.err) : `read back ${JSON.stringify(String(back))}`);
}
// 4. createWriteStream fed by pipe (the only documented way)
{
  const r = await new Promise((resolve) => {
    const ws = client.createWriteStream(`${dir}/c.bin`);
    ws.on('error', (e) => resolve({ err: e }));
    ws.on('finish', () => resolve({}));
    Readable.from([payload.subarray(0, 1 << 20), payload.subarray(1 << 20)]).pipe(ws);
    setTimeout(() => resolve({ err: new Error('no finish within 60 s') }), 60_000).unref();
  });
  const back = await raw(`${dir}/c.bin`);
  report('createWriteStream via pipe, 3 MiB', !r.err && Buffer.isBuffer(back) && back.equals(payload), r.err ? String(r.err.message ?? r.err) : `read back ${Buffer.isBuffer(back) ? back.length : back} bytes`);
}
// 5. errors: stat of a missing path, rename onto an existing file, exists()
{
  const s = await cb((done) => client.stat(`${dir}/missing`, done));
  report('stat missing path gives an error naming it', !!s.err && /missing/.test(String(s.err.message)), s.err ? `${s.err.name}: ${s.err.message}` : 'no error');
  const rn = await cb((done) => client.rename(`${dir}/b.bin`, `${dir}/a.bin`, done));
  report('rename onto an existing file reports failure', !!rn.err, rn.err ? String(rn.err.message) : `no error (result ${JSON.stringify(rn.res)}); RENAME returned false and the package did not check it`);
  const ex = await new Promise((resolve) => client.exists(`${dir}/a.bin`, (...args) => resolve(args)));
  report('exists() calls back error-first', ex.length === 2 && ex[0] === null, `called back with ${JSON.stringify(ex)}`);
}
// 6. readFile / createReadStream
{
  const r = await withTimeout(cb((done) => client.readFile(`${dir}/a.bin`, done)), 60_000, 'readFile').catch((e) => ({ err: e }));
  report('readFile', !r.err && r.res?.length === payload.length + 4, r.err ? String(r.err.message ?? r.err) : `${r.res?.length} bytes`);
}
await fetch(api(dir, 'DELETE', '&recursive=true'), { method: 'DELETE' });
