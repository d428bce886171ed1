/**
 * `npm run bench:hdfs`: the HDFS sink and source against raw WebHDFS, on the dev services' HDFS (or
 * MILLRACE_WEBHDFS_URL), in one run, on the same bytes:
 *
 * 1. sink: a Millrace job (generator → `fileSink` with `avroFormat`, deflate level 1, checkpoints on HDFS every
 *    BENCH_CHECKPOINT) writes N readings; then the bytes of the files it wrote are uploaded again, file by file, as a
 *    plain WebHDFS client would: CREATE on the NameNode (307), then one PUT of the whole byte array to the DataNode.
 *    The job's time includes encoding and compression; the upload's does not (its bytes are ready in memory). Two
 *    more lines for context: the job with deflate on libuv's thread pool (`backgroundBlocks: 16`), and what a
 *    hand-written program pays for the same output (avsc's `BlockEncoder` over the same generator, then the upload).
 * 2. source: a Millrace job (`fileSource` with `avroInput` → a sink that counts) reads those files, against OPEN of
 *    each file and avsc's container decoder (`streams.BlockDecoder`) over its bytes.
 *
 * Rounds alternate which side goes first; the ratio is the median of the per-round ratios. Figures drift with the
 * shared machine; the ratios are what to compare. Options (environment): BENCH_RECORDS (default 1 000 000),
 * BENCH_ROUNDS (3), BENCH_CHECKPOINT ('500ms'), BENCH_CODEC (deflate | snappy | null; default deflate).
 */
import { request, Agent } from 'node:http';
import { deflateRaw } from 'node:zlib';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import avsc from 'avsc';
import { defineJob, sources, type Duration, type Sink } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { WebHdfsFileSystem, avroFormat, avroInput, fileSink, fileSource, walkFiles } from '@millrace/hdfs';
import { useDevServices } from '@millrace/devservices';

const N = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHECKPOINT = (process.env.BENCH_CHECKPOINT ?? '500ms') as Duration;
const CODEC = (process.env.BENCH_CODEC ?? 'deflate') as 'deflate' | 'snappy' | 'null';
const TARGET = 0.8;

interface Reading { id: number; device: string; ts: number; temperature: number }
const schema = {
  type: 'record', name: 'Reading', namespace: 'dev.millrace.bench',
  fields: [{ name: 'id', type: 'long' }, { name: 'device', type: 'string' }, { name: 'ts', type: 'long' }, { name: 'temperature', type: 'double' }],
} as const;
const T0 = Date.UTC(2026, 10, 1);
const reading = (i: number): Reading => ({ id: i, device: `sensor-${i % 500}`, ts: T0 + i * 10, temperature: 15 + (i % 401) / 16 });

await using services = await useDevServices({ kafka: false });
const hdfs = services.hdfs!;
const fs = new WebHdfsFileSystem({ url: hdfs.webhdfsUrl, user: hdfs.user });
const base = `/millrace-bench/hdfs-${randomBytes(4).toString('hex')}`;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** One HTTP exchange on node:http (the DataNode's unsolicited `100 Continue` breaks fetch for uploads). */
function http(method: string, url: string, body?: Uint8Array): Promise<{ status: number; location: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body?.byteLength ?? 0 } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const api = (path: string, op: string, extra = ''): string => `${hdfs.webhdfsUrl}/webhdfs/v1${path}?op=${op}&user.name=${encodeURIComponent(hdfs.user)}${extra}`;

interface Side { records: number; bytes: number; files: number; ms: number }
const rate = (s: Side) => ({ rps: s.records / (s.ms / 1000), mbps: s.bytes / 1e6 / (s.ms / 1000) });

/** Millrace sink job: N readings into Avro part files under `dir`, checkpoints on HDFS. */
async function millraceSink(dir: string, backgroundBlocks?: number): Promise<Side> {
  const job = defineJob('bench-hdfs-sink', (env) => {
    env.fromSource(sources.generator<Reading>({ count: N, generate: reading }), { uid: 'readings' })
      .sinkTo(fileSink({ fs, path: dir, format: avroFormat<Reading>(schema, { codec: CODEC, ...(backgroundBlocks === undefined ? {} : { backgroundBlocks }) }), log: () => {} }), { uid: 'files' });
  }, { checkpointInterval: CHECKPOINT });
  const t = performance.now();
  const r = await runJob(job, { checkpoints: { fs, dir: `${dir}-checkpoints` }, workers: 0 }).done;
  const ms = performance.now() - t;
  const sts = await Promise.all((await walkFiles(fs, dir)).map((f) => fs.status(f)));
  return { records: r.recordsRead, bytes: sts.reduce((n, s) => n + s!.length, 0), files: sts.length, ms };
}

/** The same bytes uploaded file by file: CREATE (307 from the NameNode), one PUT of the whole array to the DataNode. */
async function rawUpload(files: ReadonlyArray<{ name: string; bytes: Uint8Array }>, dir: string, records: number): Promise<Side> {
  const t = performance.now();
  for (const f of files) {
    const first = await http('PUT', api(`${dir}/${f.name}`, 'CREATE', '&overwrite=false'));
    if (first.status !== 307 || !first.location) throw new Error(`CREATE ${dir}/${f.name}: HTTP ${first.status} ${first.body.toString().slice(0, 200)}`);
    const second = await http('PUT', first.location, f.bytes);
    if (second.status !== 201) throw new Error(`CREATE ${dir}/${f.name} (DataNode): HTTP ${second.status} ${second.body.toString().slice(0, 200)}`);
  }
  const ms = performance.now() - t;
  return { records, bytes: files.reduce((n, f) => n + f.bytes.byteLength, 0), files: files.length, ms };
}

/**
 * What a hand-written Node program would do instead of the job: the same generator into avsc's container encoder
 * (`streams.BlockEncoder`, the same codec and level, 64 KiB blocks), then the raw upload of the bytes as one file.
 */
async function avscEncodeUpload(dir: string): Promise<Side> {
  const t = performance.now();
  const codecs = { deflate: (b: Buffer, cb: (e: Error | null, r?: Buffer) => void) => deflateRaw(b, { level: 1 }, cb), null: (b: Buffer, cb: (e: Error | null, r?: Buffer) => void) => cb(null, b) };
  const encoder = new avsc.streams.BlockEncoder(avsc.Type.forSchema(schema as never), { codec: CODEC, codecs: codecs as never, blockSize: 64 * 1024 });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve, reject) => encoder.on('end', resolve).on('error', reject));
  for (let i = 0; i < N; i++) {
    if (!encoder.write(reading(i))) await new Promise((r) => encoder.once('drain', r));
  }
  encoder.end();
  await ended;
  const bytes = Buffer.concat(chunks);
  const side = await rawUpload([{ name: 'avsc.avro', bytes }], dir, N);
  return { ...side, ms: performance.now() - t };
}

/** Millrace source job over the files under `dir`, into a sink that only counts. */
async function millraceSource(dir: string, bytes: number): Promise<Side> {
  let count = 0;
  const discard: Sink<Reading> = { description: 'count', createWriter: () => ({ write: (_v, _t, n) => { count += n; } }) };
  const job = defineJob('bench-hdfs-source', (env) => {
    env.fromSource(fileSource<Reading>({ fs, paths: dir, format: avroInput<Reading>(), progress: false }), { uid: 'files' }).sinkTo(discard, { uid: 'count' });
  });
  const t = performance.now();
  const r = await runJob(job, { workers: 0 }).done;
  const ms = performance.now() - t;
  if (count !== r.recordsRead) throw new Error(`source job: ${r.recordsRead} read, ${count} reached the sink`);
  return { records: count, bytes, files: (await walkFiles(fs, dir)).length, ms };
}

/** OPEN of each file (redirect followed), then avsc's container decoder over its bytes. */
async function rawRead(paths: readonly string[]): Promise<Side> {
  let records = 0;
  let bytes = 0;
  const t = performance.now();
  for (const p of paths) {
    const res = await fetch(api(p, 'OPEN'));
    if (res.status !== 200) throw new Error(`OPEN ${p}: HTTP ${res.status}`);
    const buf = Buffer.from(await res.arrayBuffer());
    bytes += buf.length;
    const decoder = new avsc.streams.BlockDecoder();
    decoder.end(buf);
    for await (const r of decoder) { if ((r as Reading).id >= 0) records++; }
  }
  return { records, bytes, files: paths.length, ms: performance.now() - t };
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const line = (what: string, s: Side) => { const r = rate(s); return `  ${what.padEnd(44)} ${fmt(s.records).padStart(10)} records ${fmt(s.bytes / 1e6, 1).padStart(7)} MB ${String(s.files).padStart(3)} files ${fmt(s.ms).padStart(7)} ms ${fmt(r.rps).padStart(10)} records/s ${fmt(r.mbps, 1).padStart(6)} MB/s`; };
const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

console.log(`bench:hdfs: ${fmt(N)} readings {id, device, ts, temperature}, Avro ${CODEC}${CODEC === 'deflate' ? ' level 1' : ''}, checkpoints every ${CHECKPOINT}, ${ROUNDS} rounds; WebHDFS ${hdfs.webhdfsUrl}; Node ${process.version}, ${availableParallelism()} cores (shared with the HDFS JVMs)`);
const sinkRatios: number[] = [];
const pooledRatios: number[] = [];
const byHandRatios: number[] = [];
const sourceRatios: number[] = [];
let failed = false;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const dir = `${base}/round-${round}`;
    const engineFirst = round % 2 === 0;
    console.log(`round ${round + 1} (${engineFirst ? 'Millrace first' : 'raw first'}):`);
    // Sink. The raw upload needs the job's bytes, so in rounds where it goes first it uploads the previous round's files.
    let prev = round > 0 ? `${base}/round-${round - 1}/millrace` : undefined;
    let job: Side | undefined;
    if (engineFirst || !prev) { job = await millraceSink(`${dir}/millrace`); prev = `${dir}/millrace`; }
    const paths = (await walkFiles(fs, prev)).sort();
    const files = await Promise.all(paths.map(async (p) => ({ name: p.slice(p.lastIndexOf('/') + 1), bytes: await fs.readFile(p) })));
    const raw = await rawUpload(files, `${dir}/raw`, N);
    job ??= await millraceSink(`${dir}/millrace`);
    const byHand = await avscEncodeUpload(`${dir}/avsc`);
    // The same job compressing blocks on libuv's thread pool (backgroundBlocks), for comparison.
    const pooled = CODEC === 'deflate' ? await millraceSink(`${dir}/millrace-pooled`, 16) : undefined;
    if (job.records !== N) { failed = true; console.log(`  MISMATCH: the sink job read ${job.records} records, not ${N}`); }
    console.log(line('sink: Millrace fileSink (avroFormat)', job));
    if (pooled) console.log(line('sink: same, deflate on the thread pool', pooled));
    console.log(line('sink: raw WebHDFS upload of the same bytes', raw));
    console.log(line('sink: avsc BlockEncoder, then raw upload', byHand));
    byHandRatios.push(rate(job).rps / rate(byHand).rps);
    sinkRatios.push(rate(job).mbps / rate(raw).mbps);
    if (pooled) pooledRatios.push(rate(pooled).mbps / rate(raw).mbps);
    console.log(`  sink ratio (MB/s) ${sinkRatios.at(-1)!.toFixed(2)}${pooled ? `; deflate on the thread pool ${pooledRatios.at(-1)!.toFixed(2)}` : ''}; against avsc encode + upload (records/s) ${byHandRatios.at(-1)!.toFixed(2)}`);

    // Source, over the files the job wrote in this round.
    const mine = (await walkFiles(fs, `${dir}/millrace`)).sort();
    const bytes = (await Promise.all(mine.map((p) => fs.status(p)))).reduce((n, s) => n + s!.length, 0);
    const [src, dec] = engineFirst
      ? [await millraceSource(`${dir}/millrace`, bytes), await rawRead(mine)]
      : await (async () => { const d = await rawRead(mine); return [await millraceSource(`${dir}/millrace`, bytes), d] as const; })();
    if (src.records !== N || dec.records !== N) { failed = true; console.log(`  MISMATCH: Millrace read ${src.records}, avsc ${dec.records}, written ${N}`); }
    console.log(line('source: Millrace fileSource (avroInput)', src));
    console.log(line('source: raw WebHDFS OPEN + avsc decode', dec));
    sourceRatios.push(rate(src).rps / rate(dec).rps);
    console.log(`  source ratio (records/s) ${sourceRatios.at(-1)!.toFixed(2)}`);
    await fs.delete(`${dir}-checkpoints`).catch(() => {});
    if (round > 0) await fs.delete(`${base}/round-${round - 1}`);
  }
  const verdict = (r: number) => (r >= TARGET ? 'met' : 'NOT MET');
  console.log(`sink   ratio, median of ${ROUNDS}: ${median(sinkRatios).toFixed(2)} (rounds: ${sinkRatios.map((r) => r.toFixed(2)).join(', ')}); target ≥ ${TARGET}: ${verdict(median(sinkRatios))}`);
  if (pooledRatios.length) console.log(`sink ratio with deflate on the thread pool (backgroundBlocks: 16), median: ${median(pooledRatios).toFixed(2)} (rounds: ${pooledRatios.map((r) => r.toFixed(2)).join(', ')})`);
  console.log(`sink ratio against avsc encode + upload (records/s), median: ${median(byHandRatios).toFixed(2)} (rounds: ${byHandRatios.map((r) => r.toFixed(2)).join(', ')})`);
  console.log(`source ratio, median of ${ROUNDS}: ${median(sourceRatios).toFixed(2)} (rounds: ${sourceRatios.map((r) => r.toFixed(2)).join(', ')}); target ≥ ${TARGET}: ${verdict(median(sourceRatios))}`);
} finally {
  await fs.delete(base).catch(() => {});
  fs.close();
  agent.destroy();
}
process.exit(failed ? 1 : 0);
