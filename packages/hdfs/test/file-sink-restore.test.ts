import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, sources, type SourceBatch } from '@millrace/core';
import { CheckpointStorage, JobRuntime, SystemClock, runJob, type SourceDriver } from '@millrace/runtime';
import { readContainer } from '@millrace/avro';
import { LocalFileStore, avroFormat, fileSink, walkFiles } from '../src/index.js';

const schema = { type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 'ts', type: 'long' }] } as const;
interface R { id: number; ts: number }
const COUNT = 1000;
const gen = (i: number): R => ({ id: i, ts: i * 1_000 });

/** Reads `batches` batches of 100 from a source and hands them down its chain, as the executor's read loop does. */
function feed(src: SourceDriver, batches: number): void {
  for (let i = 0; i < batches; i++) {
    const b = src.reader.next(100) as SourceBatch<unknown> | null;
    assert.ok(b, 'the source has records left');
    src.emit(b);
  }
}

/**
 * Which of the ids 0 … COUNT-1 the final part files under `dir` miss or hold twice, as ranges (`{ missing: [],
 * duplicated: [] }` when each is there once); fails on hidden (in-progress or pending) files left behind.
 */
async function finalIds(fs: LocalFileStore, dir: string): Promise<{ missing: string[]; duplicated: string[] }> {
  const files = await walkFiles(fs, dir);
  assert.deepEqual(files.filter((f) => f.slice(f.lastIndexOf('/') + 1).startsWith('.')), [], 'no in-progress or pending part files remain');
  const seen = new Array<number>(COUNT).fill(0);
  for (const f of files) for (const r of readContainer<R>(await fs.readFile(f), { path: f }).records) seen[Number(r.id)]!++;
  const ranges = (want: (n: number) => boolean): string[] => {
    const out: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      if (!want(seen[i]!)) continue;
      let j = i;
      while (j + 1 < COUNT && want(seen[j + 1]!)) j++;
      out.push(i === j ? `${i}` : `${i}-${j}`);
      i = j;
    }
    return out;
  };
  return { missing: ranges((n) => n === 0), duplicated: ranges((n) => n > 1) };
}

const all = { missing: [], duplicated: [] };

describe('file sink: restores after the end of input', () => {
  it('regression: a checkpoint requested after the end of input cannot make a restore delete the final output', async (t) => {
    // Seen in the SIGKILL test (seed 2004): the periodic checkpoint timer fired during the final commit; that
    // checkpoint stored the source at its end but the sink's part counter of the checkpoint before, and no
    // committables for the output written since. A restore from it replayed nothing and its clean-up deleted the
    // final files of that output as "written after the restored checkpoint": 686 of 4000 records lost.
    const root = await mkdtemp(join(tmpdir(), 'millrace-sink-restore-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    const job = defineJob('tail', (env) => {
      env.fromSource(sources.generator<R>({ count: COUNT, generate: gen }), { uid: 'src' })
        .sinkTo(fileSink({ fs, path: '/out', format: avroFormat<R>(schema), rolling: { maxBytes: 2048 }, log: () => {} }), { uid: 'files' });
    });

    // First run, driven by hand: 400 records, checkpoint 1, the other 600, end of input, then a checkpoint is
    // requested before the final commit.
    const rt = new JobRuntime(job.plan(), new SystemClock(), new CheckpointStorage(fs, '/chk/tail'));
    const src = rt.sources[0]!;
    feed(src, 4);
    assert.equal((await rt.triggerCheckpoint()).checkpointId, 1);
    feed(src, 6);
    assert.equal(src.reader.next(100), null);
    src.end();
    const late = rt.triggerCheckpoint();
    late.catch(() => {});
    await rt.commitFinal();
    await late.catch(() => {});
    await rt.close();
    assert.deepEqual(await finalIds(fs, '/out'), all, 'the first run wrote every record');

    // Second run: restored from the newest completed checkpoint, as after a kill, and run to the end.
    await runJob(job, { checkpoints: { fs, dir: '/chk' }, restore: 'latest' }).done;
    assert.deepEqual(await finalIds(fs, '/out'), all, 'every record exactly once after the restore');
  });

  it('regression: a checkpoint after one sink\'s input ended holds that sink\'s output since the barrier before', async (t) => {
    // Two pipelines; `a` ends first. A checkpoint taken while `b` still runs stores `a`'s source at its end, so it
    // must also hold what `a`'s sink wrote since the previous barrier: a restore from it never replays that.
    const root = await mkdtemp(join(tmpdir(), 'millrace-sink-restore-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    const job = defineJob('two', (env) => {
      for (const name of ['a', 'b']) {
        env.fromSource(sources.generator<R>({ count: COUNT, generate: gen }), { uid: name })
          .sinkTo(fileSink({ fs, path: `/${name}`, format: avroFormat<R>(schema), rolling: { maxBytes: 2048 }, log: () => {} }), { uid: `${name}-files` });
      }
    });

    const rt = new JobRuntime(job.plan(), new SystemClock(), new CheckpointStorage(fs, '/chk/two'));
    const [a, b] = ['a', 'b'].map((uid) => rt.sources.find((d) => d.subtask.headNode.uid === uid)!);
    feed(a!, 4);
    feed(b!, 1);
    assert.equal((await rt.triggerCheckpoint()).checkpointId, 1);
    feed(a!, 6);
    a!.end();
    feed(b!, 1);
    assert.equal((await rt.triggerCheckpoint()).checkpointId, 2);
    // A crash: no final commit.
    await rt.close();

    await runJob(job, { checkpoints: { fs, dir: '/chk' }, restore: 'latest' }).done;
    assert.deepEqual(await finalIds(fs, '/a'), all, 'every record of the pipeline that ended first, exactly once');
    assert.deepEqual(await finalIds(fs, '/b'), all, 'every record of the other pipeline, exactly once');
  });
});
