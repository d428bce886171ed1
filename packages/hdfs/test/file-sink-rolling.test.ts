import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob } from '@millrace/core';
import { pollUntil } from '@millrace/devservices';
import { JobTestDriver } from '@millrace/testing';
import { readContainer } from '@millrace/avro';
import { LocalFileStore, avroFormat, fieldBuckets, fileSink, walkFiles, type FileWriteStream, type RollingPolicy } from '../src/index.js';

const schema = { type: 'record', name: 'E', fields: [{ name: 'id', type: 'long' }, { name: 'b', type: 'string' }] } as const;
interface E { id: number; b: string }

/**
 * A local store that watches its write streams: how many are open at once (created, not yet closed or aborted), and
 * which were closed. The files are real; only the bookkeeping is added.
 */
class WatchedStore extends LocalFileStore {
  open = 0;
  maxOpen = 0;
  readonly closed = new Set<string>();
  override createStream(path: string, opts?: { overwrite?: boolean }): FileWriteStream {
    const s = super.createStream(path, opts);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let ended = false;
    const end = (): void => { if (!ended) { ended = true; this.open--; } };
    return {
      get bytes() { return s.bytes; },
      write: (chunk) => s.write(chunk),
      // Open until its close completed: what the file system sees.
      close: async () => { try { await s.close(); } finally { end(); } this.closed.add(path); },
      abort: () => { end(); s.abort(); },
    };
  }
}

async function setUp(t: { after: (fn: () => unknown) => void }, rolling: RollingPolicy, more: { buckets?: boolean; maxOpenFiles?: number } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'millrace-rolling-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const fs = new WatchedStore(root);
  const job = defineJob('rolling', (env) => {
    env.fromArray<E>([], { uid: 'in' }).sinkTo(fileSink({
      fs, path: '/out', format: avroFormat<E>(schema), rolling, log: () => {},
      ...(more.buckets ? { buckets: fieldBuckets<E>('b') } : {}), ...(more.maxOpenFiles ? { maxOpenFiles: more.maxOpenFiles } : {}),
    }), { uid: 'files' });
  });
  const driver = JobTestDriver.of(job, { keepSinks: ['files'] });
  t.after(() => driver.close());
  const input = driver.input<E>('in');
  let id = 0;
  /** Pushes one record per name at the current processing time. */
  const push = (...names: string[]) => { for (const b of names) input.push({ id: id++, b }); };
  /** Moves processing time to `at` (absolute, ms since the start). */
  const at = (ms: number) => driver.advanceProcessingTime(ms - driver.clock.now());
  /** The records of each final part file, in part order: what went together into one file. */
  const finalParts = async () => {
    const files = (await walkFiles(fs, '/out')).filter((f) => !/\/\./.test(f));
    const part = (f: string) => Number(/-(\d+)\.avro$/.exec(f)![1]);
    files.sort((a, b) => part(a) - part(b));
    const out: number[][] = [];
    for (const f of files) out.push(readContainer<E>(await fs.readFile(f), { path: f }).records.map((r) => Number(r.id)));
    return out;
  };
  return { fs, driver, push, at, finalParts };
}

/** Whether the in-progress part file `n` is closed: the store saw its close and it holds a complete Avro file. */
async function closedPart(fs: WatchedStore, n: number): Promise<number[] | undefined> {
  const path = `/out/.part-0-${n}.avro.inprogress`;
  if (!fs.closed.has(path)) return undefined;
  return readContainer<E>(await fs.readFile(path), { path }).records.map((r) => Number(r.id));
}

/** Waits on a probe of the store (the pause between probes decides nothing); fails naming `what` after a minute. */
function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  return pollUntil(probe, { what, timeoutMs: 60_000, intervalMs: 5, hint: 'The sink did not close the part file: the rolling deadline did not fire at the time the test moved the manual clock to.' });
}

describe('file sink rolling on processing time (manual clock)', () => {
  it('closes a part file maxAgeMs after it was opened, not before, and the next record opens a new one', async (t) => {
    const { fs, push, at, finalParts, driver } = await setUp(t, { maxAgeMs: 10_000, inactivityMs: 3_600_000 });
    push('x'); // part 0 opened at 0
    at(5_000); push('x');
    at(9_999); push('x');
    assert.equal(fs.closed.size, 0);
    at(10_000);
    assert.deepEqual(await until(() => closedPart(fs, 0), 'part 0 closed at 10 000 ms'), [0, 1, 2], 'closed when its age reached maxAgeMs, with every record of its age');
    push('x'); // part 1 opened at 10 000
    at(19_999); push('x');
    at(20_000);
    assert.deepEqual(await until(() => closedPart(fs, 1), 'part 1 closed at 20 000 ms'), [3, 4]);
    push('x');
    await driver.checkpoint();
    assert.deepEqual(await finalParts(), [[0, 1, 2], [3, 4], [5]]);
  });

  it('closes a part file inactivityMs after its last record, not before', async (t) => {
    const { fs, push, at, finalParts, driver } = await setUp(t, { inactivityMs: 10_000 });
    push('x');
    at(9_999); push('x'); // 1 ms short of inactive: the same part
    at(19_998); push('x');
    at(29_997);
    assert.equal(fs.closed.size, 0, 'still open 9 999 ms after its last record');
    at(29_998);
    assert.deepEqual(await until(() => closedPart(fs, 0), 'part 0 closed at 29 998 ms'), [0, 1, 2]);
    push('x');
    await driver.checkpoint();
    assert.deepEqual(await finalParts(), [[0, 1, 2], [3]]);
  });

  it('with both, the earlier deadline closes it; a checkpoint closes every open part and resets the timers', async (t) => {
    const { fs, push, at, finalParts, driver } = await setUp(t, { maxAgeMs: 10_000, inactivityMs: 4_000 }, { buckets: true });
    push('a', 'b'); // parts 0 (a) and 1 (b) opened at 0
    at(3_000); push('a'); // a active: its age closes it at 10 000; b is inactive at 4 000
    at(3_999);
    assert.equal(fs.closed.size, 0);
    at(4_000);
    await until(async () => (fs.closed.has('/out/b=b/.part-0-1.avro.inprogress') ? true : undefined), 'b closed by inactivity');
    assert.equal(fs.closed.size, 1, 'a is still open');
    at(6_000); push('a');
    await driver.checkpoint(); // closes a (part 0), commits parts 0 and 1
    at(10_000); push('a'); // part 2: the age of part 0 has no say any more
    at(13_999);
    assert.ok(!fs.closed.has('/out/b=a/.part-0-2.avro.inprogress'));
    at(14_000);
    await until(async () => (fs.closed.has('/out/b=a/.part-0-2.avro.inprogress') ? true : undefined), 'part 2 closed by inactivity');
    await driver.checkpoint();
    assert.deepEqual(await finalParts(), [[0, 2, 3], [1], [4]]);
  });

  it('maxOpenFiles: 2 over 5 buckets keeps at most 2 part files open and writes every record once', async (t) => {
    const { fs, push, finalParts, driver } = await setUp(t, { inactivityMs: 3_600_000 }, { buckets: true, maxOpenFiles: 2 });
    const buckets = ['b0', 'b1', 'b2', 'b3', 'b4'];
    // Runs of 25 records per bucket, round robin, four times: every run finds its bucket's part evicted.
    const runs: string[][] = [];
    for (let round = 0; round < 4; round++) for (const b of buckets) runs.push(Array.from({ length: 25 }, () => b));
    for (const run of runs) push(...run);
    // Also within one batch: records of three buckets interleaved (each opening evicts the least recently written).
    push(...Array.from({ length: 30 }, (_, i) => buckets[i % 3]!));
    await driver.checkpoint();
    assert.ok(fs.maxOpen <= 2, `at most 2 streams open at once, saw ${fs.maxOpen}`);
    assert.equal(fs.open, 0, 'all closed at the checkpoint');
    const parts = await finalParts();
    const ids = parts.flat().sort((a, b) => a - b);
    assert.deepEqual(ids, [...Array(530).keys()], 'every record once in final files');
    assert.ok(parts.length >= 20, `a new part per run after eviction: ${parts.length}`);
    assert.deepEqual((await walkFiles(fs, '/out')).filter((f) => /\/\./.test(f)), [], 'no in-progress or pending file left');
  });
});
