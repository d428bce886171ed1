/**
 * The file sink's processing-time rolling and `maxOpenFiles` on the real HDFS (WebHDFS of the dev services, no
 * mocks), driven by a manual clock (`JobTestDriver`): a part closes at its inactivity deadline and not before, and
 * five buckets with `maxOpenFiles: 2` never have more than two WebHDFS write streams open, yet every record ends in a
 * final file once the checkpoint completes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';
import { WebHdfsFileSystem, avroFormat, fieldBuckets, fileSink, walkFiles, type FileWriteStream } from '@millrace/hdfs';
import { readContainer } from '@millrace/avro';
import { defineJob } from '@millrace/core';
import { JobTestDriver } from '@millrace/testing';
import { waitFor } from '../probe.ts';

const schema = { type: 'record', name: 'E', fields: [{ name: 'id', type: 'long' }, { name: 'b', type: 'string' }] } as const;
interface E { id: number; b: string }

/** WebHDFS that counts its open write streams (created and not yet closed or aborted) and notes closed ones. */
class WatchedWebHdfs extends WebHdfsFileSystem {
  streamsOpen = 0;
  maxOpen = 0;
  readonly closedStreams = new Set<string>();
  override createStream(path: string, opts?: { overwrite?: boolean }): FileWriteStream {
    const s = super.createStream(path, opts);
    this.streamsOpen++;
    this.maxOpen = Math.max(this.maxOpen, this.streamsOpen);
    let ended = false;
    const end = (): void => { if (!ended) { ended = true; this.streamsOpen--; } };
    return {
      get bytes() { return s.bytes; },
      write: (chunk) => s.write(chunk),
      close: async () => { try { await s.close(); } finally { end(); } this.closedStreams.add(path); },
      abort: () => { end(); s.abort(); },
    };
  }
}

describe('file sink rolling and maxOpenFiles on the dev HDFS', { timeout: 300_000 }, () => {
  let services: DevServicesLease;
  let fs: WatchedWebHdfs;
  const dir = `/millrace-test/rolling-${randomUUID().slice(0, 8)}`;

  before(async () => {
    services = await useDevServices({ kafka: false });
    fs = new WatchedWebHdfs({ url: services.hdfs!.webhdfsUrl, user: 'millrace-tester' });
  });
  after(async () => {
    await fs?.delete(dir).catch(() => {});
    fs?.close();
    await services?.close();
  });

  it('closes parts at their inactivity deadline and keeps at most maxOpenFiles streams open on HDFS', async () => {
    const job = defineJob('rolling-hdfs', (env) => {
      env.fromArray<E>([], { uid: 'in' }).sinkTo(fileSink({
        fs, path: `${dir}/out`, format: avroFormat<E>(schema), buckets: fieldBuckets<E>('b'), maxOpenFiles: 2, rolling: { inactivityMs: 10_000 }, log: () => {},
      }), { uid: 'files' });
    });
    await using driver = JobTestDriver.of(job, { keepSinks: ['files'] });
    const input = driver.input<E>('in');
    let id = 0;
    const push = (...bs: string[]) => input.push(...bs.map((b) => ({ id: id++, b })));

    // Inactivity: a record 1 ms short of the deadline keeps the part open; the deadline closes it.
    push('solo');
    driver.advanceProcessingTime(9_999);
    push('solo');
    driver.advanceProcessingTime(9_999);
    const solo = `${dir}/out/b=solo/.part-0-0.avro.inprogress`;
    driver.advanceProcessingTime(1);
    await waitFor(() => fs.closedStreams.has(solo), `${solo} closed at its inactivity deadline`);
    assert.deepEqual(readContainer<E>(await fs.readFile(solo), { path: solo }).records.map((r) => Number(r.id)), [0, 1]);

    // Five buckets, runs of 20 records round robin, twice: each run evicts the least recently written part.
    const buckets = ['b0', 'b1', 'b2', 'b3', 'b4'];
    for (let round = 0; round < 2; round++) for (const b of buckets) push(...Array.from({ length: 20 }, () => b));
    await driver.checkpoint();
    assert.ok(fs.maxOpen <= 2, `at most 2 WebHDFS write streams open at once, saw ${fs.maxOpen}`);
    assert.equal(fs.streamsOpen, 0);

    const files = await walkFiles(fs, `${dir}/out`);
    assert.deepEqual(files.filter((f) => /\/\./.test(f)), [], 'no in-progress or pending file left');
    const ids: number[] = [];
    for (const f of files) ids.push(...readContainer<E>(await fs.readFile(f), { path: f }).records.map((r) => Number(r.id)));
    assert.deepEqual(ids.sort((a, b) => a - b), [...Array(id).keys()], 'every record once in final files');
    assert.equal(files.length, 1 + 10, 'the rolled part, and one part per run');
  });
});
