/**
 * A record that does not fit the sink's Avro schema fails the job naming the sink (operator uid, file system and
 * path, bucket) as well as the field: a job with several file sinks tells which one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { AvroError } from '@millrace/avro';
import { LocalFileStore, avroFormat, fieldBuckets, fileSink } from '../src/index.js';

const schema = { type: 'record', name: 'Reading', fields: [{ name: 'device', type: 'string' }, { name: 'value', type: 'double' }] } as const;
interface Reading { device: string; value: unknown }

function avroError(e: unknown): AvroError | undefined {
  for (let x = e; x; x = (x as { cause?: unknown }).cause) if (x instanceof AvroError) return x;
  return undefined;
}

describe('file sink: records that do not match the schema', () => {
  for (const bucketed of [false, true]) {
    it(`fail naming the sink's path${bucketed ? ' and bucket' : ''} and the field`, async (t) => {
      const root = await mkdtemp(join(tmpdir(), 'millrace-sink-schema-'));
      t.after(() => rm(root, { recursive: true, force: true }));
      const fs = new LocalFileStore(root);
      const records: Reading[] = [{ device: 'd1', value: 1.5 }, { device: 'd2', value: 'warm' }];
      await assert.rejects(runJob(defineJob('schema', (env) => {
        env.fromArray(records, { uid: 'src' }).sinkTo(fileSink<Reading>({
          fs, path: '/data/readings', format: avroFormat<Reading>(schema), log: () => {}, ...(bucketed ? { buckets: fieldBuckets<Reading>('device') } : {}),
        }), { uid: 'readings-files' });
      })).done, (e: unknown) => {
        const a = avroError(e);
        const sink = `readings-files: file sink ${fs.uri}/data/readings${bucketed ? ' (bucket device=d2)' : ''}, format avro(deflate): `;
        return a?.code === 'invalid-value' && a.field === 'value' && a.message.startsWith(sink)
          && /field 'value' of Reading is "warm", which is not a valid double/.test(a.message)
          && a.path === (bucketed ? '/data/readings/device=d2' : '/data/readings');
      });
    });
  }
});
