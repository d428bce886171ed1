import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, sinks } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { LocalFileStore, avroFormat, avroInput, fieldBuckets, fileSink, fileSource, partitionsOf, walkFiles } from '../src/index.js';

interface R { id: number; device: string | null }
const schema = { type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 'device', type: ['null', 'string'] }] } as const;
/** Values that are not plain directory names: a slash, dots, a percent sign, a space, empty, null. */
const devices = ['a/b', 'a', '..', '.', '../up', '50%', 'x y', '', null];
const records: R[] = Array.from({ length: 90 }, (_, i) => ({ id: i, device: devices[i % devices.length]! }));

describe('buckets', () => {
  it('fieldBuckets makes one directory level of any value, and partitionsOf gives the value back', () => {
    const b = fieldBuckets<R>('device');
    assert.equal(b({ id: 0, device: 'a/b' }, 0), 'device=a%2Fb');
    assert.equal(b({ id: 0, device: '../up' }, 0), 'device=..%2Fup');
    assert.equal(b({ id: 0, device: '50%' }, 0), 'device=50%25');
    assert.equal(b({ id: 0, device: null }, 0), 'device=__HIVE_DEFAULT_PARTITION__');
    assert.equal(b({ id: 0 } as R, 0), 'device=__HIVE_DEFAULT_PARTITION__');
    assert.equal(partitionsOf('/out/device=a%2Fb/part-0-0.avro').device, 'a/b');
    // A '%' that is not URI encoding (a directory written by another tool) is taken as it is.
    assert.equal(partitionsOf('/out/device=50%/part-0-0.avro').device, '50%');
  });

  it('a sink by field writes each value, slashes and dots included, to its own directory under the path', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-buckets-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    await runJob(defineJob('by-device', (env) => {
      env.fromArray(records, { uid: 'src' }).sinkTo(fileSink({ fs, path: '/out', format: avroFormat<R>(schema), buckets: fieldBuckets<R>('device'), log: () => {} }), { uid: 'sink' });
    })).done;
    assert.deepEqual(await readdir(root), ['out'], 'nothing was written outside the sink path');
    const files = await walkFiles(fs, '/out');
    assert.ok(files.every((f) => /^\/out\/device=[^/]*\/part-0-\d+\.avro$/.test(f)), files.join('\n'));
    assert.equal(files.length, devices.length);
    const read = async (partitions: string[]) => {
      const out = sinks.collect<R>();
      await runJob(defineJob('read', (env) => {
        env.fromSource(fileSource<R>({ fs, paths: '/out', format: avroInput<R>(), partitions, progress: false }), { uid: 'src' }).sinkTo(out, { uid: 'out' });
      })).done;
      return out.values().map((r) => ({ ...r })).sort((a, b) => a.id - b.id);
    };
    assert.deepEqual(await read([]), records);
    assert.deepEqual(await read(['device=a/b']), records.filter((r) => r.device === 'a/b'));
    assert.deepEqual(await read(['device=../up']), records.filter((r) => r.device === '../up'));
  });

  it('a bucket that is not a directory below the path fails the job, naming the bucket', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-buckets-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    for (const [bucket, why] of [['../escape', /'\.\.'/], ['/abs', /starts with '\/'/], ['a//b', /empty directory name/], ['a/', /empty directory name/], ['a/./b', /'\.'/]] as const) {
      await assert.rejects(runJob(defineJob('bad-bucket', (env) => {
        env.fromArray(records, { uid: 'src' }).sinkTo(fileSink({ fs, path: '/out/base', format: avroFormat<R>(schema), buckets: () => bucket, log: () => {} }), { uid: 'sink' });
      })).done, (e: Error) => e.message.includes(`bucket '${bucket}' is not a directory below the sink's path`) && why.test(e.message) && e.message.includes('/out/base'), bucket);
    }
    assert.deepEqual(await walkFiles(fs, '/'), [], 'no file was written anywhere');
  });
});
