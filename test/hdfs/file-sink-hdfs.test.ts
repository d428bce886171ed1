/**
 * The file sink and source on the real HDFS (WebHDFS of the dev services, no mocks): rolling by size and at
 * checkpoints, Hive-style buckets by event time and by field, schema evolution through a reader schema. Files are
 * also read by Apache avro-tools (`tojson`, `getschema`), an Avro implementation we did not write.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';
import { WebHdfsFileSystem, avroFormat, avroInput, eventTimeBuckets, fieldBuckets, fileSink, fileSource, walkFiles } from '@millrace/hdfs';
import { readContainer } from '@millrace/avro';
import { defineJob, sinks, sources, WatermarkStrategy } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { prepareAvroTools, type AvroTools } from './avro-tools.ts';
import { waitFor } from '../probe.ts';

interface Reading { id: number; device: string; ts: number; temperature: number }
const v1 = {
  type: 'record', name: 'Reading', namespace: 'test.iot',
  fields: [{ name: 'id', type: 'long' }, { name: 'device', type: 'string' }, { name: 'ts', type: 'long' }, { name: 'temperature', type: 'double' }],
} as const;
/** v2 adds two fields with defaults: files written with v1 read as v2. */
const v2 = {
  type: 'record', name: 'Reading', namespace: 'test.iot',
  fields: [...v1.fields, { name: 'unit', type: 'string', default: 'C' }, { name: 'humidity', type: ['null', 'double'], default: null }],
} as const;
const T0 = Date.UTC(2026, 10, 1, 22); // crosses midnight: dt=2026-11-01/hour=22 … dt=2026-11-02/hour=01
const reading = (i: number): Reading => ({ id: i, device: `sensor-${i % 7}`, ts: T0 + i * 700, temperature: 15 + (i % 41) / 8 });
const pad = (n: number) => String(n).padStart(2, '0');
/** Decoded records are instances of avsc's record classes: compared as plain objects. */
const plain = <T extends object>(xs: readonly T[]): T[] => xs.map((x) => ({ ...x }));

describe('file sink and source on the dev HDFS', { timeout: 600_000 }, () => {
  let services: DevServicesLease;
  let fs: WebHdfsFileSystem;
  let tools: AvroTools;
  let local: string;
  const dir = `/millrace-test/file-sink-${randomUUID().slice(0, 8)}`;

  before(async () => {
    services = await useDevServices({ kafka: false });
    fs = new WebHdfsFileSystem({ url: services.hdfs!.webhdfsUrl, user: 'millrace-tester' });
    tools = await prepareAvroTools();
    local = await mkdtemp(join(tmpdir(), 'millrace-avro-tools-'));
  });
  after(async () => {
    await fs?.delete(dir).catch(() => {});
    fs?.close();
    await rm(local, { recursive: true, force: true }).catch(() => {});
    await services?.close();
  });

  /** Every record of every file (our reader), per file, as plain objects. */
  const readAll = async (files: readonly string[]) => Promise.all(files.map(async (f) => ({ f, records: plain(readContainer<Reading>(await fs.readFile(f), { path: f }).records) })));
  /** A part file downloaded, then decoded by avro-tools. */
  const avroToolsJson = async (path: string): Promise<{ records: Reading[]; schema: { fields: Array<{ name: string }> } }> => {
    const file = join(local, `${randomUUID()}.avro`);
    await writeFile(file, await fs.readFile(path));
    const records = (await tools.run('tojson', file)).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Reading);
    const schema = JSON.parse(await tools.run('getschema', file)) as { fields: Array<{ name: string }> };
    return { records, schema };
  };

  it('rolls part files by size; avro-tools reads them', async () => {
    const out = `${dir}/size`;
    const n = 20_000;
    const maxBytes = 16 * 1024;
    await runJob(defineJob('roll-size', (env) => {
      env.fromSource(sources.generator<Reading>({ count: n, generate: reading }), { uid: 'src' })
        .sinkTo(fileSink({ fs, path: out, format: avroFormat<Reading>(v1, { blockSize: 4096 }), rolling: { maxBytes }, log: () => {} }), { uid: 'files' });
    }, { batchSize: 256 }), { workers: 0 }).done;
    const files = await walkFiles(fs, out);
    assert.ok(files.length >= 5, `rolled by size into several files: ${files.join(', ')}`);
    assert.ok(files.every((f) => /\/part-0-\d+\.avro$/.test(f)), files.join('\n'));
    const sizes = await Promise.all(files.map(async (f) => (await fs.status(f))!.length));
    const byNumber = files.map((f, i) => ({ n: Number(/part-0-(\d+)\.avro$/.exec(f)![1]), size: sizes[i]! })).sort((a, b) => a.n - b.n);
    // Rolling looks at the bytes written plus the open block uncompressed (4 KiB blocks here): every file but the last
    // got within a block of maxBytes, none went much beyond (one batch of records over).
    for (const { n: k, size } of byNumber.slice(0, -1)) assert.ok(size >= maxBytes - 4096 && size < maxBytes + 12 * 1024, `part ${k}: ${size} bytes`);
    const per = await readAll(files);
    const ids = per.flatMap((p) => p.records.map((r) => r.id)).sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: n }, (_, i) => i));
    const largest = files[sizes.indexOf(Math.max(...sizes))]!;
    const viaTools = await avroToolsJson(largest);
    assert.deepEqual(viaTools.records, per.find((p) => p.f === largest)!.records);
    assert.deepEqual(viaTools.schema.fields.map((f) => f.name), ['id', 'device', 'ts', 'temperature']);
  });

  it('closes part files at each checkpoint and makes them visible when it completes', async () => {
    const out = `${dir}/checkpoint`;
    const h = runJob(defineJob('roll-checkpoint', (env) => {
      env.fromSource(sources.generator<Reading>({ generate: reading, ratePerSecond: 3000 }), { uid: 'src' })
        .sinkTo(fileSink({ fs, path: out, format: avroFormat<Reading>(v1), rolling: { maxBytes: 1 << 30, inactivityMs: 3_600_000 }, log: () => {} }), { uid: 'files' });
    }, { batchSize: 64 }), { checkpoints: { fs, dir: `${dir}/checkpoint-chk` }, workers: 0 });
    const visible = async () => (await walkFiles(fs, out)).filter((f) => !/\/\./.test(f));
    const hidden = async () => (await walkFiles(fs, out)).filter((f) => /\/\.part-0-\d+\.avro\.inprogress$/.test(f));
    for (let k = 1; k <= 3; k++) {
      await waitFor(async () => (await hidden()).length > 0, `an in-progress part file before checkpoint ${k}`);
      assert.equal((await visible()).length, k - 1, `before checkpoint ${k} completes, only the parts of earlier checkpoints are visible`);
      await h.checkpoint();
      assert.equal((await visible()).length, k, `checkpoint ${k} made exactly one more part file visible`);
    }
    await h.cancel();
    // Records run on from file to file with no gap or overlap; what came after the last checkpoint is not visible.
    const per = await readAll((await visible()).sort((a, b) => Number(/-(\d+)\.avro$/.exec(a)![1]) - Number(/-(\d+)\.avro$/.exec(b)![1])));
    let next = 0;
    for (const p of per) {
      assert.ok(p.records.length > 0, `${p.f} holds records`);
      assert.deepEqual(p.records.map((r) => r.id), Array.from({ length: p.records.length }, (_, i) => next + i), `${p.f} continues at id ${next}`);
      next += p.records.length;
    }
  });

  it('buckets by event time (dt=/hour=, UTC, across midnight) and by field', async () => {
    const n = 12_000; // 2 h 20 min of event time from 22:00
    const all = Array.from({ length: n }, (_, i) => reading(i));
    const byTime = `${dir}/by-time`;
    const byDevice = `${dir}/by-device`;
    await runJob(defineJob('buckets', (env) => {
      const s = env.fromSource(sources.array([...all]), { uid: 'src', watermarks: WatermarkStrategy.monotonous<Reading>().withTimestamp((r) => r.ts) });
      s.sinkTo(fileSink({ fs, path: byTime, format: avroFormat<Reading>(v1), buckets: eventTimeBuckets(), log: () => {} }), { uid: 'by-time' });
      s.sinkTo(fileSink({ fs, path: byDevice, format: avroFormat<Reading>(v1), buckets: fieldBuckets<Reading>('device'), log: () => {} }), { uid: 'by-device' });
    }), { workers: 0 }).done;

    const timeFiles = await walkFiles(fs, byTime);
    const dirs = [...new Set(timeFiles.map((f) => f.slice(byTime.length + 1, f.lastIndexOf('/'))))].sort();
    assert.deepEqual(dirs, ['dt=2026-11-01/hour=22', 'dt=2026-11-01/hour=23', 'dt=2026-11-02/hour=00']);
    let count = 0;
    for (const { f, records } of await readAll(timeFiles)) {
      for (const r of records) {
        const d = new Date(r.ts);
        assert.ok(f.includes(`/dt=${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/`), `record ${r.id} (${d.toISOString()}) in ${f}`);
      }
      count += records.length;
    }
    assert.equal(count, n);

    const deviceFiles = await walkFiles(fs, byDevice);
    const devices = [...new Set(deviceFiles.map((f) => f.slice(byDevice.length + 1, f.lastIndexOf('/'))))].sort();
    assert.deepEqual(devices, Array.from({ length: 7 }, (_, d) => `device=sensor-${d}`));
    assert.equal(deviceFiles.length, devices.length, 'one part file per device (16 open files at most by default)');
    count = 0;
    for (const { f, records } of await readAll(deviceFiles)) {
      for (const r of records) assert.ok(f.includes(`/device=${encodeURIComponent(r.device)}/`), `record ${r.id} of ${r.device} in ${f}`);
      count += records.length;
    }
    assert.equal(count, n);

    // Partition pruning on the written layout: only hour 23 of the first day.
    const out = sinks.collect<Reading>();
    await runJob(defineJob('prune', (env) => {
      env.fromSource(fileSource<Reading>({ fs, paths: `${byTime}/dt=*/hour=*/*.avro`, partitions: ['dt=2026-11-01', 'hour>=23'], format: avroInput<Reading>(), progress: false }), { uid: 'src' }).sinkTo(out, { uid: 'out' });
    }), { workers: 0 }).done;
    assert.deepEqual(out.values().map((r) => r.id).sort((a, b) => a - b), all.filter((r) => new Date(r.ts).getUTCHours() === 23).map((r) => r.id));
  });

  it('a field value with a slash (or dots, or a percent sign) is one encoded directory; an unsafe custom bucket fails naming it', async () => {
    const out = `${dir}/slash`;
    const schema = { type: 'record', name: 'D', fields: [{ name: 'id', type: 'long' }, { name: 'device', type: ['null', 'string'] }] } as const;
    const values = ['a/b', 'a', '../up', '50%', null];
    const records = Array.from({ length: 50 }, (_, i) => ({ id: i, device: values[i % values.length]! }));
    await runJob(defineJob('slash', (env) => {
      env.fromArray(records, { uid: 'src' }).sinkTo(fileSink({ fs, path: out, format: avroFormat<(typeof records)[number]>(schema), buckets: fieldBuckets('device'), log: () => {} }), { uid: 'files' });
    }), { workers: 0 }).done;
    const files = await walkFiles(fs, out);
    assert.deepEqual(files.map((f) => f.slice(out.length + 1, f.lastIndexOf('/'))).sort(), ['device=..%2Fup', 'device=50%25', 'device=__HIVE_DEFAULT_PARTITION__', 'device=a', 'device=a%2Fb']);
    assert.deepEqual((await fs.list(dir)).filter((n) => n === 'up'), [], 'nothing written beside the sink path');
    const got = sinks.collect<(typeof records)[number]>();
    await runJob(defineJob('slash-read', (env) => {
      env.fromSource(fileSource<(typeof records)[number]>({ fs, paths: out, partitions: ['device=a/b'], format: avroInput(), progress: false }), { uid: 'src' }).sinkTo(got, { uid: 'out' });
    }), { workers: 0 }).done;
    assert.deepEqual(plain(got.values()).sort((a, b) => a.id - b.id), records.filter((r) => r.device === 'a/b'));

    await assert.rejects(runJob(defineJob('slash-raw', (env) => {
      env.fromArray(records, { uid: 'src' }).sinkTo(fileSink({ fs, path: `${out}-raw`, format: avroFormat<(typeof records)[number]>(schema), buckets: (r) => `device=${r.device}/../x`, log: () => {} }), { uid: 'files' });
    }), { workers: 0 }).done, /bucket 'device=a\/b\/\.\.\/x' is not a directory below the sink's path/);
  });

  it('reads files written with schema v1 as v2 (added fields take their defaults)', async () => {
    const out = `${dir}/evolution`;
    const n = 5000;
    await runJob(defineJob('write-v1', (env) => {
      env.fromSource(sources.generator<Reading>({ count: n, generate: reading }), { uid: 'src' })
        .sinkTo(fileSink({ fs, path: out, format: avroFormat<Reading>(v1, { codec: 'snappy' }), rolling: { maxBytes: 32 * 1024 }, log: () => {} }), { uid: 'files' });
    }), { workers: 0 }).done;
    const files = await walkFiles(fs, out);
    assert.ok(files.length > 1);

    const got = sinks.collect<Reading & { unit: string; humidity: number | null }>();
    await runJob(defineJob('read-v2', (env) => {
      env.fromSource(fileSource<Reading & { unit: string; humidity: number | null }>({ fs, paths: out, format: avroInput({ readerSchema: v2 }), splitBytes: 8 * 1024, progress: false }), { uid: 'src' })
        .sinkTo(got, { uid: 'out' });
    }, { parallelism: 2 }), { workers: 0 }).done;
    const records = plain(got.values()).sort((a, b) => a.id - b.id);
    assert.equal(records.length, n);
    assert.deepEqual(records, Array.from({ length: n }, (_, i) => ({ ...reading(i), unit: 'C', humidity: null })));

    // The files still carry the writer's schema (v1), as avro-tools shows; its records equal ours.
    const viaTools = await avroToolsJson(files[0]!);
    assert.deepEqual(viaTools.schema.fields.map((f) => f.name), ['id', 'device', 'ts', 'temperature']);
    assert.deepEqual(viaTools.records, plain(readContainer<Reading>(await fs.readFile(files[0]!)).records));

    // A reader schema that cannot read the files fails naming the field.
    const bad = { ...v2, fields: [...v1.fields, { name: 'unit', type: 'string' }] };
    await assert.rejects(runJob(defineJob('read-bad', (env) => {
      env.fromSource(fileSource({ fs, paths: out, format: avroInput({ readerSchema: bad }), progress: false }), { uid: 'src' }).sinkTo(sinks.collect(), { uid: 'out' });
    }), { workers: 0 }).done, /unit/);
  });
});
