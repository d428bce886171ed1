import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, sinks, WatermarkStrategy } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { readContainer } from '@millrace/avro';
import { LocalFileStore, avroFormat, avroInput, eventTimeBuckets, fileSink, fileSource, jsonLinesFormat, jsonLinesInput, kafkaConnectLayout, walkFiles, PathPattern } from '../src/index.js';

const schema = { type: 'record', name: 'R', fields: [{ name: 'k', type: 'string' }, { name: 'ts', type: 'long' }, { name: 'v', type: 'long' }] } as const;
interface R { k: string; ts: number; v: number }
const T0 = Date.UTC(2026, 10, 1, 10);
const recs: R[] = Array.from({ length: 3000 }, (_, i) => ({ k: `k${i % 5}`, ts: T0 + i * 5_000, v: i }));

describe('file sink and source on a local directory', () => {
  it('writes hourly buckets of Avro, reads them back with pruning, splits and globs', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-hdfs-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    await runJob(defineJob('w', (env) => {
      env.fromArray(recs, { uid: 'src', watermarks: WatermarkStrategy.monotonous<R>().withTimestamp((r) => r.ts) })
        .sinkTo(fileSink({ fs, path: '/out', format: avroFormat<R>(schema), buckets: eventTimeBuckets(), rolling: { maxBytes: 4096 }, log: () => {} }), { uid: 'sink' });
    })).done;
    const files = await walkFiles(fs, '/out');
    assert.ok(files.every((f) => /^\/out\/dt=2026-11-01\/hour=1[0-4]\/part-0-\d+\.avro$/.test(f)), files.join('\n'));
    assert.ok(files.length > 5, 'rolled by size');
    const back: R[] = [];
    for (const f of files) back.push(...readContainer<R>(await fs.readFile(f)).records);
    assert.deepEqual(back.map((r) => r.v).sort((a, b) => a - b), recs.map((r) => r.v));

    const read = async (opts: Partial<Parameters<typeof fileSource<R>>[0]>, parallelism = 1) => {
      const out = sinks.collect<R>();
      await runJob(defineJob('r', (env) => {
        env.fromSource(fileSource<R>({ fs, paths: '/out/dt=*/hour=*/*.avro', format: avroInput<R>(), progress: false, ...opts }), { uid: 'src' }).sinkTo(out, { uid: 'out' });
      }, { parallelism }), { workers: 0 }).done;
      return out.values().map((r) => r.v).sort((a, b) => a - b);
    };
    assert.deepEqual(await read({}), recs.map((r) => r.v));
    assert.deepEqual(await read({ splitBytes: 1000 }, 2), recs.map((r) => r.v), 'Avro block-range splits read every record once');
    const late = recs.filter((r) => new Date(r.ts).getUTCHours() >= 12).map((r) => r.v);
    assert.deepEqual(await read({ partitions: ['hour>=12'] }), late);
    assert.ok(new PathPattern('/a/dt=*/x').mayContain('/a/dt=1') && !new PathPattern('/a/dt=*/x').mayContain('/a/b'));
  });

  it('json lines, and Kafka Connect file names', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-hdfs-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    const withOffsets = recs.slice(0, 100).map((r, i) => ({ ...r, partition: i % 2, offset: Math.floor(i / 2) }));
    await runJob(defineJob('w', (env) => {
      env.fromArray(withOffsets, { uid: 'src' }).sinkTo(fileSink({ fs, path: '/kc', format: jsonLinesFormat(), log: () => {}, ...kafkaConnectLayout<(typeof withOffsets)[number]>({ topic: 'readings', partition: (r) => r.partition, offset: (r) => r.offset }) }), { uid: 'sink' });
    })).done;
    assert.deepEqual(await walkFiles(fs, '/kc'), ['/kc/topics/readings/partition=0/readings+0+0000000000+0000000049.jsonl', '/kc/topics/readings/partition=1/readings+1+0000000000+0000000049.jsonl']);
    const out = sinks.collect<{ v: number }>();
    await runJob(defineJob('r', (env) => { env.fromSource(fileSource({ fs, paths: '/kc', format: jsonLinesInput<{ v: number }>(), progress: false }), { uid: 's' }).sinkTo(out, { uid: 'o' }); })).done;
    assert.equal(out.values().length, 100);
  });
});
