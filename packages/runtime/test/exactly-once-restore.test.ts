import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agg, defineJob, sources, valueState, WatermarkStrategy, windows, type Source } from '@millrace/core';
import { jsonLinesFileSink, runJob } from '@millrace/runtime';

interface Ev { key: string; v: number; ts: number }
const COUNT = 20_000;
const ev = (i: number): Ev => ({ key: `k${(i * 7) % 37}`, v: i % 101, ts: i * 50 - ((i * 13) % 3_000) });

/** The generator source, but `next()` waits at the given positions until the test releases it. */
function gated(stops: number[]): { source: Source<Ev>; reached: (n: number) => Promise<void>; release: () => void } {
  const inner = sources.generator<Ev>({ count: COUNT, generate: ev });
  let release: () => void = () => {};
  const waiters = new Map<number, () => void>();
  const reachedPromises = new Map<number, Promise<void>>(stops.map((s) => [s, new Promise<void>((r) => waiters.set(s, r))]));
  return {
    reached: (n) => reachedPromises.get(n)!,
    release: () => release(),
    source: {
      description: 'gated generator',
      bounded: true,
      createReader(ctx) {
        const r = inner.createReader(ctx);
        return {
          next(max) {
            const pos = r.snapshot(0) as number;
            const stop = stops.find((s) => s === pos);
            if (stop !== undefined && waiters.has(stop)) {
              const w = waiters.get(stop)!;
              waiters.delete(stop);
              return new Promise((resolve) => {
                release = () => resolve(r.next(max) as never);
                w();
              });
            }
            return r.next(Math.min(max, ...stops.filter((s) => s > pos).map((s) => s - pos)));
          },
          snapshot: (id) => r.snapshot(id),
          restore: (p) => r.restore!(p),
        };
      },
    },
  };
}

const jobWith = (source: Source<Ev>, out: string) =>
  defineJob('exactly-once', (env) => {
    const s = env.fromSource(source, { uid: 'src', watermarks: WatermarkStrategy.boundedOutOfOrderness<Ev>('3s').withTimestamp((e) => e.ts) });
    s.keyBy((e) => e.key).window(windows.tumbling('10s')).aggregate(agg.sum((e: Ev) => e.v), (key, w, sum) => ({ key, end: w.end, sum }), { uid: 'sums' })
      .sinkTo(jsonLinesFileSink(join(out, 'sums'), { log: () => {}, bufferRecords: 1 }), { uid: 'sums-out' });
    s.keyBy((e) => e.key).process<{ key: string; run: number; ts: number }>({ uid: 'runs' }).withState({ last: valueState<number>() }).handle({
      onElement(e, { state, emit }) {
        const run = (state.last.value() ?? 0) + 1;
        state.last.update(run);
        if (run % 100 === 0) emit({ key: e.key, run, ts: e.ts });
      },
    }).sinkTo(jsonLinesFileSink(join(out, 'runs'), { log: () => {}, bufferRecords: 1 }), { uid: 'runs-out' });
  }, { batchSize: 256 });

async function committedLines(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const f of (await readdir(dir)).filter((n) => !n.startsWith('.'))) lines.push(...(await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean));
  return lines.sort();
}

test('a job stopped after a checkpoint and restored from it writes exactly the output of an uninterrupted run', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'millrace-eo-'));
  t.after(() => rm(base, { recursive: true, force: true }));

  const reference = join(base, 'reference');
  await runJob(jobWith(sources.generator({ count: COUNT, generate: ev }), reference)).done;
  const refSums = await committedLines(join(reference, 'sums'));
  const refRuns = await committedLines(join(reference, 'runs'));
  assert.ok(refSums.length > 100 && refRuns.length > 100, 'the reference run produced output');

  const out = join(base, 'resumed');
  const checkpoints = join(base, 'checkpoints');
  // First run: checkpoint at 5 120 records, then read on to 12 800 and stop without committing (as a crash would).
  const g = gated([5_120, 12_800]);
  const first = runJob(jobWith(g.source, out), { checkpoints });
  await g.reached(5_120);
  const cp = await first.checkpoint();
  assert.equal(cp.checkpointId, 1);
  g.release();
  await g.reached(12_800);
  await first.cancel();
  const partial = await committedLines(join(out, 'sums'));
  assert.ok(partial.length > 0 && partial.length < refSums.length, 'some, not all, output was committed before the stop');
  const leftovers = (await readdir(join(out, 'sums'))).filter((n) => n.endsWith('.inprogress'));
  assert.ok(leftovers.length > 0, 'the stopped run left an in-progress file behind, as a crash would');

  // Second run: restore from the latest completed checkpoint and run to the end.
  const second = runJob(jobWith(sources.generator({ count: COUNT, generate: ev }), out), { checkpoints, restore: 'latest' });
  const result = await second.done;
  assert.equal(result.status, 'finished');
  assert.equal(result.recordsRead, COUNT - 5_120, 'the restored source resumed at the checkpointed position');
  assert.deepEqual(await committedLines(join(out, 'sums')), refSums);
  assert.deepEqual(await committedLines(join(out, 'runs')), refRuns);
  assert.deepEqual((await readdir(join(out, 'sums'))).filter((n) => n.startsWith('.')), [], 'no in-progress or pending files remain');
});

test('regression: a source fused with its sink in one chain keeps its own position in checkpoints', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'millrace-eo-fused-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const job = (source: Source<Ev>, out: string) =>
    defineJob('fused', (env) => {
      env.fromSource(source, { uid: 'src' }).map((e) => ({ key: e.key, v: e.v })).sinkTo(jsonLinesFileSink(out, { log: () => {}, bufferRecords: 1 }), { uid: 'out' });
    }, { batchSize: 256 });
  const checkpoints = join(base, 'checkpoints');
  const out = join(base, 'out');
  const g = gated([2_560, 7_680]);
  const first = runJob(job(g.source, out), { checkpoints });
  assert.match(first.metrics().map((m) => m.name).join(','), /src → map → out/, 'source, map and sink run as one chain');
  await g.reached(2_560);
  const cp = await first.checkpoint();
  assert.deepEqual([...cp.states.keys()].sort(), ['out', 'src']);
  g.release();
  await g.reached(7_680);
  await first.cancel();
  const second = await runJob(job(sources.generator({ count: COUNT, generate: ev }), out), { checkpoints, restore: 'latest' }).done;
  assert.equal(second.recordsRead, COUNT - 2_560);
  const lines = await committedLines(out);
  assert.equal(lines.length, COUNT);
  assert.deepEqual(lines, Array.from({ length: COUNT }, (_, i) => JSON.stringify({ key: ev(i).key, v: ev(i).v })).sort());
});

test('regression: a barrier never falls between reading a batch and handing it down', async (t) => {
  // The read loop let timers run every 64 synchronous batches, but between `next()` and `emit()`: a checkpoint
  // triggered then stored the position after a batch the sink had not received, so a restore from it lost the batch.
  const base = await mkdtemp(join(tmpdir(), 'millrace-eo-yield-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const N = 300;
  const STOP = 200;
  interface Rec { i: number }
  const job = (source: Source<Rec>, out: string) =>
    defineJob('yield', (env) => {
      // Buffered (writes return nothing to wait for), so that only the read loop lets timers run.
      env.fromSource(source, { uid: 'src' }).sinkTo(jsonLinesFileSink(out, { log: () => {}, bufferRecords: 1_000 }), { uid: 'out' });
    }, { batchSize: 1 });
  let reachedStop: () => void = () => {};
  const reached = new Promise<void>((r) => (reachedStop = r));
  let onFirstRead: () => void = () => {};
  // One record per read, synchronously; the first read asks for a checkpoint on the next turn of the event loop,
  // which comes when the read loop first lets timers run; reads wait at STOP until the job is stopped.
  const eager: Source<Rec> = {
    description: 'eager',
    bounded: true,
    createReader: () => {
      let next = 0;
      return {
        next() {
          if (next === 0) setImmediate(() => onFirstRead());
          if (next === STOP) { reachedStop(); return new Promise<null>(() => {}); }
          return { values: [{ i: next++ }] };
        },
        snapshot: () => next,
        restore: (p) => { next = p as number; },
      };
    },
  };
  const out = join(base, 'out');
  const checkpoints = join(base, 'checkpoints');
  let cp: Promise<unknown> | undefined;
  const first = runJob(job(eager, out), { checkpoints });
  onFirstRead = () => { cp = first.checkpoint(); };
  await reached;
  assert.ok(cp, 'a checkpoint was requested during the first read');
  await cp;
  await first.cancel();
  await runJob(job(sources.generator<Rec>({ count: N, generate: (i) => ({ i }) }), out), { checkpoints, restore: 'latest' }).done;
  const seen = new Map<number, number>();
  for (const l of await committedLines(out)) { const i = (JSON.parse(l) as Rec).i; seen.set(i, (seen.get(i) ?? 0) + 1); }
  const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !seen.has(i));
  const twice = [...seen].filter(([, c]) => c > 1).map(([i]) => i);
  assert.deepEqual({ missing, twice }, { missing: [], twice: [] });
});
