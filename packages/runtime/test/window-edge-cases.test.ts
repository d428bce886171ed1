/**
 * Hand-written window edge cases, each named after what it guards. Inputs are scripts of records and watermarks (one
 * per source batch), so every watermark is exactly the one written. Cases that the fast path can run are run on the
 * fast path (default trigger) and on the general path (explicit `triggers.eventTime()`), with the same expectation.
 * Expected values follow Apache Flink's WindowOperator, EventTimeTrigger, CountTrigger, PurgingTrigger and
 * ContinuousEventTimeTrigger.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GlobalWindow, OutputTag, TimeWindow, WatermarkStrategy, agg, defineJob, sinks, triggers, windows,
  type DataStream, type Window, type WindowAssigner, type WindowedStream,
} from '@millrace/core';
import { FastWindowOperator, RecordBatch, WindowOperator, type Operator, type OperatorContext } from '../src/index.js';
import { LATE, contentsAggregate, runScript, type Rec, type RowValue, type ScriptEntry } from './window-test-kit.js';

let nextId = 0;
/** A record of key `key` at `ts` with value `v`; ids count up per test file, so expected ids are written literally. */
const rec = (key: string, ts: number, v = 1): ScriptEntry<Rec> => ({ data: { key, ts, id: nextId++, v } });
const wm = (watermark: number): ScriptEntry<Rec> => ({ watermark });
/** Resets ids so each test's ids start at 0. */
const script = (build: () => Array<ScriptEntry<Rec>>): Array<ScriptEntry<Rec>> => {
  nextId = 0;
  return build();
};

type Path = readonly [name: string, choose: <W extends Window>(w: WindowedStream<string, Rec, W>) => WindowedStream<string, Rec, W>];
const PATHS: readonly Path[] = [
  ['fast path', (w) => w],
  ['general path', (w) => w.trigger(triggers.eventTime())],
];

/** A row per firing with its output timestamp. */
type Row = RowValue & { readonly ts: number };

/** Runs `script` through `assigner` + `contentsAggregate` on one path; rows in emission order. */
async function runWindows(
  path: Path,
  assigner: WindowAssigner<TimeWindow>,
  input: Array<ScriptEntry<Rec>>,
  lateness = 0,
): Promise<{ rows: Row[]; late: Array<{ id: number; ts: number }>; lateDropped: number }> {
  const r = await runScript(input, (x) => x.ts, (s: DataStream<Rec>) => {
    const w = path[1](s.keyBy((x) => x.key).window(assigner).allowedLateness(lateness).sideOutputLateData(LATE));
    const out = w.aggregate(contentsAggregate, (key, win, a): RowValue => ({ key, start: win.start, end: win.end, ...a }), { uid: 'win' });
    return { out, late: out.getSideOutput(LATE) };
  });
  return {
    rows: r.out.map((o) => ({ ...o.value, ts: o.timestamp })),
    late: r.late.map((l) => ({ id: l.value.id, ts: l.timestamp })),
    lateDropped: r.metrics.reduce((n, m) => n + m.lateRecordsDropped, 0),
  };
}

const row = (key: string, start: number, end: number, ids: number[], sum = ids.length): Row => ({ key, start, end, n: ids.length, sum, ids, ts: end - 1 });

describe('the fast path is chosen exactly for event-time tumbling/sliding windows with the default trigger and an aggregate', () => {
  const spec = (over: Record<string, unknown>): { kind: string } & Record<string, unknown> => ({
    kind: 'window', assigner: windows.tumbling(10), trigger: undefined, fn: { type: 'aggregate', aggregate: agg.count() }, ...over,
  });
  it('tumbling and sliding with the default trigger and an aggregate: fast', () => {
    assert.equal(FastWindowOperator.supports(spec({})), true);
    assert.equal(FastWindowOperator.supports(spec({ assigner: windows.sliding(10, 5) })), true);
  });
  it('explicit trigger, session, global, processing time or a process function: general', () => {
    assert.equal(FastWindowOperator.supports(spec({ trigger: triggers.eventTime() })), false);
    assert.equal(FastWindowOperator.supports(spec({ assigner: windows.session(10) })), false);
    assert.equal(FastWindowOperator.supports(spec({ assigner: windows.global() })), false);
    assert.equal(FastWindowOperator.supports(spec({ assigner: windows.tumbling(10, { time: 'processing' }) })), false);
    assert.equal(FastWindowOperator.supports(spec({ fn: { type: 'process', process: () => {} } })), false);
  });
});

for (const path of PATHS) {
  describe(`window edge cases (${path[0]})`, () => {
    it('empty windows emit nothing, also when the watermark passes them', async () => {
      const input = script(() => [rec('a', 3), rec('a', 7), wm(25), wm(49), rec('a', 52), wm(100)]);
      const { rows } = await runWindows(path, windows.tumbling(10), input);
      assert.deepEqual(rows, [row('a', 0, 10, [0, 1]), row('a', 50, 60, [2])]);
    });

    it('records with equal timestamps all count, per key', async () => {
      const input = script(() => [rec('a', 5, 2), rec('b', 5, 3), rec('a', 5, 4), rec('a', 5, 8), wm(9)]);
      const { rows } = await runWindows(path, windows.tumbling(10), input);
      assert.deepEqual(rows, [row('a', 0, 10, [0, 2, 3], 14), row('b', 0, 10, [1], 3)]);
    });

    it('a watermark jump over many windows fires them in order of their end', async () => {
      const input = script(() => [rec('a', 95), rec('a', 5), rec('a', 45), rec('a', 15), rec('a', 75), rec('a', 25), wm(1000)]);
      const { rows } = await runWindows(path, windows.tumbling(10), input);
      assert.deepEqual(rows, [
        row('a', 0, 10, [1]), row('a', 10, 20, [3]), row('a', 20, 30, [5]), row('a', 40, 50, [2]), row('a', 70, 80, [4]), row('a', 90, 100, [0]),
      ]);
    });

    it('a watermark jump over sliding windows of several keys fires by window end', async () => {
      const input = script(() => [rec('b', 12), rec('a', 3), rec('a', 17), wm(1000)]);
      const { rows } = await runWindows(path, windows.sliding(10, 5), input);
      assert.deepEqual(rows.map((r) => r.end), [5, 10, 15, 20, 20, 25]);
      assert.deepEqual(
        [...rows].sort((x, y) => x.end - y.end || (x.key < y.key ? -1 : 1)),
        [row('a', -5, 5, [1]), row('a', 0, 10, [1]), row('b', 5, 15, [0]), row('a', 10, 20, [2]), row('b', 10, 20, [0]), row('a', 15, 25, [2])],
      );
    });

    it('a record at end - 1 belongs to the window, a record at end to the next one; the window fires at watermark end - 1', async () => {
      const input = script(() => [rec('a', 9), rec('a', 10), wm(8), rec('a', 0), wm(9), wm(18), wm(19)]);
      const { rows } = await runWindows(path, windows.tumbling(10), input);
      assert.deepEqual(rows, [row('a', 0, 10, [0, 2]), row('a', 10, 20, [1])]);
    });

    it('a record with ts + lateness == watermark is late (window dropped at end - 1 + lateness)', async () => {
      const input = script(() => [rec('a', 2), wm(14), rec('a', 9), wm(30)]);
      const { rows, late } = await runWindows(path, windows.tumbling(10), input, 5);
      assert.deepEqual(rows, [row('a', 0, 10, [0])]);
      assert.deepEqual(late, [{ id: 1, ts: 9 }]);
    });

    it('a record with ts + lateness == watermark + 1 is allowed and re-fires the window with the updated aggregate', async () => {
      const input = script(() => [rec('a', 2, 10), wm(13), rec('a', 9, 5), rec('a', 0, 1), wm(14), rec('a', 1), wm(30)]);
      const { rows, late } = await runWindows(path, windows.tumbling(10), input, 5);
      assert.deepEqual(rows, [row('a', 0, 10, [0], 10), row('a', 0, 10, [0, 1], 15), row('a', 0, 10, [0, 1, 2], 16)]);
      assert.deepEqual(late, [{ id: 3, ts: 1 }]);
    });

    it('without allowed lateness a record for a fired window is late and nothing re-fires', async () => {
      const input = script(() => [rec('a', 2), wm(9), rec('a', 9), rec('a', 10), wm(30)]);
      const { rows, late } = await runWindows(path, windows.tumbling(10), input);
      assert.deepEqual(rows, [row('a', 0, 10, [0]), row('a', 10, 20, [2])]);
      assert.deepEqual(late, [{ id: 1, ts: 9 }]);
    });

    it('a sliding-window record is late only when all of its windows are past their lateness', async () => {
      // ts 12 belongs to [5, 15) (dropped at watermark 14) and [10, 20) (still open): not late, only [10, 20) counts it.
      const input = script(() => [rec('a', 6), wm(14), rec('a', 12), wm(19), rec('a', 13), wm(100)]);
      const { rows, late } = await runWindows(path, windows.sliding(10, 5), input);
      assert.deepEqual(rows, [row('a', 0, 10, [0]), row('a', 5, 15, [0]), row('a', 10, 20, [1])]);
      assert.deepEqual(late, [{ id: 2, ts: 13 }]);
    });

    it('late records without a side output are counted as dropped, not emitted', async () => {
      const input = script(() => [rec('a', 2), wm(9), rec('a', 3), rec('a', 4), wm(30)]);
      const r = await runScript(input, (x) => x.ts, (s) => ({
        out: path[1](s.keyBy((x) => x.key).window(windows.tumbling(10))).aggregate(agg.count(), { uid: 'win' }),
      }));
      assert.deepEqual(r.out, [{ value: 1, timestamp: 9 }]);
      assert.equal(r.metrics.reduce((n, m) => n + m.lateRecordsDropped, 0), 2);
    });

    it('negative timestamps and a negative offset: windows start at offset + k * size', async () => {
      const input = script(() => [rec('a', -14), rec('a', -13), rec('a', -4), rec('a', -3), rec('a', -1), rec('a', 6), rec('a', 7), wm(100)]);
      const { rows } = await runWindows(path, windows.tumbling(10, { offset: -3 }), input);
      assert.deepEqual(rows, [row('a', -23, -13, [0]), row('a', -13, -3, [1, 2]), row('a', -3, 7, [3, 4, 5]), row('a', 7, 17, [6])]);
    });

    it('negative timestamps on sliding windows with an offset', async () => {
      const input = script(() => [rec('a', -1), wm(100)]);
      const { rows } = await runWindows(path, windows.sliding(10, 4, { offset: 1 }), input);
      assert.deepEqual(rows, [row('a', -7, 3, [0])].concat([row('a', -3, 7, [0])]).sort((x, y) => x.end - y.end));
    });

    it('reduce with and without a result function', async () => {
      const input = script(() => [rec('a', 1, 4), rec('a', 2, 9), rec('b', 3, 7), rec('a', 12, 1), wm(100)]);
      const r = await runScript(input, (x) => x.ts, (s) => {
        const w = path[1](s.keyBy((x) => x.key).window(windows.tumbling(10)));
        const max = w.reduce((x, y) => (y.v > x.v ? y : x), { uid: 'max' });
        const sum = w.reduce((x, y) => ({ ...x, v: x.v + y.v }), (key, win, res) => `${key}[${win.start},${win.end})=${res.v}`, { uid: 'sum' });
        return { out: max.map((x) => `${x.key}:${x.id}`).union(sum) };
      });
      assert.deepEqual(r.out.map((o) => o.value).sort(), ['a:1', 'a:3', 'a[0,10)=13', 'a[10,20)=1', 'b:2', 'b[0,10)=7']);
      assert.deepEqual(r.out.map((o) => o.timestamp).sort((x, y) => x - y), [9, 9, 9, 9, 19, 19]);
    });
  });
}

describe('window edge cases (offset and assigner arithmetic)', () => {
  it('a time-zone offset given as a string shifts day windows: offset -8h starts them at 16:00 UTC', () => {
    const day = windows.tumbling('1d', { offset: '-8h' });
    assert.deepEqual(day.assignWindows(0), [new TimeWindow(-8 * 3_600_000, 16 * 3_600_000)]);
    assert.deepEqual(day.assignWindows(16 * 3_600_000), [new TimeWindow(16 * 3_600_000, 40 * 3_600_000)]);
    assert.deepEqual(day.assignWindows(-8 * 3_600_000 - 1), [new TimeWindow(-32 * 3_600_000, -8 * 3_600_000)]);
  });

  it('sliding windows whose size is no multiple of the slide: a record is in ceil or floor of size/slide windows', () => {
    const w = windows.sliding(10, 4);
    assert.deepEqual(w.assignWindows(0).map((x) => [x.start, x.end]), [[0, 10], [-4, 6], [-8, 2]]);
    assert.deepEqual(w.assignWindows(2).map((x) => [x.start, x.end]), [[0, 10], [-4, 6]]);
    assert.deepEqual(w.assignWindows(-1).map((x) => [x.start, x.end]), [[-4, 6], [-8, 2]]);
  });
});

describe('window edge cases (general path only)', () => {
  it('session windows: one bridging record merges two sessions and itself; a third session stays apart', async () => {
    // gap 10: [0,10) and [20,30) are apart; a record at 10 opens [10,20), which touches both, so all three become
    // [0,30). [41,51) never touches them. Nothing has fired before the merge (watermark 8).
    const input = script(() => [rec('a', 0, 1), rec('a', 20, 2), rec('a', 41, 4), wm(8), rec('a', 10, 8), wm(29), wm(100)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.session(10)).aggregate(contentsAggregate, (key, w, a): RowValue => ({ key, start: w.start, end: w.end, ...a }), { uid: 'win' }),
    }));
    assert.deepEqual(r.out.map((o) => ({ ...o.value, ts: o.timestamp })), [row('a', 0, 30, [0, 1, 3], 11), row('a', 41, 51, [2], 4)]);
  });

  it('session windows: a late-but-allowed record that extends a fired session moves its firing to the merged end', async () => {
    // [0,10) fires at 9; with lateness 20 a record at 5 at watermark 12 makes [0,15), which has not ended yet: no
    // immediate firing, it fires at 14 with both records.
    const input = script(() => [rec('a', 0), wm(9), wm(12), rec('a', 5), wm(13), wm(14), wm(100)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.session(10)).allowedLateness(20).aggregate(contentsAggregate, (key, w, a): RowValue => ({ key, start: w.start, end: w.end, ...a }), { uid: 'win' }),
    }));
    assert.deepEqual(r.out.map((o) => ({ ...o.value, ts: o.timestamp })), [row('a', 0, 10, [0]), row('a', 0, 15, [0, 1])]);
  });

  it('session windows: merged count-trigger state is summed, and a merge leaves the other sessions\' counts alone', async () => {
    // count(3), gap 10. [0,15) and [30,43) hold two records each. A record at 12 extends [0,15) to [0,22): merged
    // count 3, it fires. The record before it was in [30,43); merging must clear the trigger state of the window
    // merged away, not of that one: a record at 38 then makes [30,48) with count 3, which fires too.
    const input = script(() => [rec('a', 0), rec('a', 5), rec('a', 30), rec('a', 33), rec('a', 12), rec('a', 38)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.session(10)).trigger(triggers.count(3)).aggregate(contentsAggregate, (key, w, a): RowValue => ({ key, start: w.start, end: w.end, ...a }), { uid: 'win' }),
    }));
    assert.deepEqual(r.out.map((o) => o.value), [
      { key: 'a', start: 0, end: 22, n: 3, sum: 3, ids: [0, 1, 4] },
      { key: 'a', start: 30, end: 48, n: 3, sum: 3, ids: [2, 3, 5] },
    ]);
  });

  it('global window with triggers.count(n) fires every n records with all records so far', async () => {
    const input = script(() => [rec('a', 1, 1), rec('b', 2, 10), rec('a', 3, 2), rec('a', 4, 3), rec('a', 5, 4), rec('b', 6, 20), rec('a', 7, 5), rec('a', 8, 6)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.global()).trigger(triggers.count(3)).aggregate(agg.sum<Rec>((x) => x.v), (key, w, sum) => `${key} ${String(w)} ${sum}`, { uid: 'win' }),
    }));
    assert.deepEqual(r.out.map((o) => o.value), ['a GlobalWindow 6', 'a GlobalWindow 21']);
  });

  it('global window with triggers.purging(count(n)) fires each n records once; a rest below n never fires', async () => {
    const input = script(() => [rec('a', 1, 1), rec('a', 3, 2), rec('a', 4, 3), rec('a', 5, 4), rec('a', 7, 5), rec('a', 8, 6), rec('a', 9, 7), rec('a', 10, 8), wm(1000)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.global()).trigger(triggers.purging(triggers.count(3))).process<string>((key, w, els, out) => {
        out.emit(`${key} ${w === GlobalWindow.INSTANCE} ${els.map((e) => e.v).join(',')}`);
      }, { uid: 'win' }),
    }));
    assert.deepEqual(r.out.map((o) => o.value), ['a true 1,2,3', 'a true 4,5,6']);
  });

  it('global window without a trigger never fires, not even at end of input', async () => {
    const input = script(() => [rec('a', 1), rec('a', 2), wm(1000)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.global()).aggregate(agg.count(), { uid: 'win' }),
    }));
    assert.deepEqual(r.out, []);
  });

  it('continuousEventTime fires early every interval of event time, then at the window end', async () => {
    // tumbling 100, early firings every 30: first at 30 (ts 5 rounds down to 0), then 60, 90, and the final one at 99.
    const input = script(() => [rec('a', 5, 1), rec('a', 20, 2), wm(29), wm(30), rec('a', 35, 4), wm(59), wm(60), rec('a', 70, 8), rec('a', 95, 16), wm(90), wm(99), wm(1000)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.tumbling(100)).trigger(triggers.continuousEventTime(30)).aggregate(agg.sum<Rec>((x) => x.v), { uid: 'win' }),
    }));
    assert.deepEqual(r.out, [
      { value: 3, timestamp: 99 }, { value: 7, timestamp: 99 }, { value: 31, timestamp: 99 }, { value: 31, timestamp: 99 },
    ]);
  });

  it('continuousEventTime with allowed lateness fires no early firing after the window end (Flink caps at maxTimestamp)', async () => {
    const input = script(() => [rec('a', 5, 1), wm(99), wm(130), wm(1000)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.tumbling(100)).allowedLateness(50).trigger(triggers.continuousEventTime(30)).aggregate(agg.sum<Rec>((x) => x.v), { uid: 'win' }),
    }));
    // Flink: 30, 60, 90, 99 (the next firing is min(time + interval, maxTimestamp)).
    assert.deepEqual(r.out.map((o) => o.value), [1, 1, 1, 1]);
  });

  it('continuousEventTime on session windows keeps firing early after a merge (Flink ContinuousEventTimeTrigger.onMerge)', async () => {
    // gap 100, interval 10: [0,100) would fire early at 10; a record at 5 merges it into [0,105) before watermark
    // 10. Flink fires the merged window early at 10, 20, …, 100 and finally at 104: eleven firings of 1 + 2.
    const input = script(() => [rec('a', 0, 1), rec('a', 5, 2), wm(10), wm(1000)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.session(100)).trigger(triggers.continuousEventTime(10)).aggregate(agg.sum<Rec>((x) => x.v), { uid: 'win' }),
    }));
    assert.deepEqual(r.out, new Array(11).fill({ value: 3, timestamp: 104 }));
  });

  it('a process window function receives all elements in arrival order, the key, the window and the watermark', async () => {
    const seen: Array<{ key: string; start: number; end: number; maxTs: number; ids: number[]; watermark: number }> = [];
    const input = script(() => [rec('a', 7), rec('b', 1), rec('a', 2), rec('a', 9), wm(15), rec('a', 4), wm(100)]);
    const r = await runScript(input, (x) => x.ts, (s) => ({
      out: s.keyBy((x) => x.key).window(windows.tumbling(10)).allowedLateness(10).process<string>((key, w, els, c) => {
        seen.push({ key, start: w.start, end: w.end, maxTs: w.maxTimestamp, ids: els.map((e) => e.id), watermark: c.currentWatermark });
        c.emit(`${key}:${els.length}`);
        c.emit(`${key}:early`, w.start);
      }, { uid: 'win' }),
    }));
    // The watermark fires a and b (in either order, as in Flink: timers of equal time); the late record re-fires a.
    assert.equal(seen.length, 3);
    assert.deepEqual([seen[0]!, seen[1]!].sort((x, y) => (x.key < y.key ? -1 : 1)), [
      { key: 'a', start: 0, end: 10, maxTs: 9, ids: [0, 2, 3], watermark: 15 },
      { key: 'b', start: 0, end: 10, maxTs: 9, ids: [1], watermark: 15 },
    ]);
    assert.deepEqual(seen[2], { key: 'a', start: 0, end: 10, maxTs: 9, ids: [0, 2, 3, 4], watermark: 15 });
    const byValue = (x: { value: string }, y: { value: string }): number => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0);
    assert.deepEqual([...r.out].sort(byValue), [
      { value: 'a:3', timestamp: 9 }, { value: 'a:4', timestamp: 9 },
      { value: 'a:early', timestamp: 0 }, { value: 'a:early', timestamp: 0 },
      { value: 'b:1', timestamp: 9 }, { value: 'b:early', timestamp: 0 },
    ]);
  });

  it('a process window function can write to a side output (Flink ProcessWindowFunction.Context.output)', async () => {
    const tag = new OutputTag<string>('notes');
    const input = script(() => [rec('a', 1), wm(100)]);
    const r = await runScript(input, (x) => x.ts, (s) => {
      const out = s.keyBy((x) => x.key).window(windows.tumbling(10)).process<string>((key, _w, _els, c) => c.output(tag, `${key} fired`), { uid: 'win' });
      return { out: out.getSideOutput(tag) };
    });
    assert.deepEqual(r.out, [{ value: 'a fired', timestamp: 9 }]);
  });
});

describe('window state is cleaned up when the watermark reaches end - 1 + allowed lateness', () => {
  /** The plan node of a window step, and an operator context that records nothing. */
  function setup(trigger: boolean): { ctx: OperatorContext; key: (r: Rec) => string } {
    const job = defineJob('cleanup', (env) => {
      const w = env.fromArray<Rec>([], { uid: 'src', watermarks: WatermarkStrategy.monotonous<Rec>().withTimestamp((r) => r.ts) })
        .keyBy((r) => r.key).window(windows.tumbling(10)).allowedLateness(5);
      (trigger ? w.trigger(triggers.eventTime()) : w).aggregate(agg.count(), { uid: 'win' }).sinkTo(sinks.collect(), { uid: 'out' });
    });
    const node = job.plan().nodes.find((n) => n.uid === 'win')!;
    const ctx: OperatorContext = {
      node, jobName: 'cleanup', subtaskIndex: 0, parallelism: 1, maxParallelism: 128, keyGroupRange: { start: 0, end: 127 },
      clock: { now: () => 0, schedule: () => () => {} },
      output: { emit() {}, emitSide() {} },
      metrics: { recordsIn: 0, recordsOut: 0, lateRecordsDropped: 0, lateRecordsToSideOutput: 0, deadLetters: 0 },
      requestProcessingTime() {},
      failRecord(_n, _v, _t, e) { throw e; },
    };
    return { ctx, key: (r) => r.key };
  }
  const batch = (...recs: Rec[]): RecordBatch => {
    const b = new RecordBatch();
    for (const r of recs) b.push(r, r.ts);
    return b;
  };
  /** Windows (`start|end` and key) holding state in a snapshot, and the number of live timers. */
  const stateOf = (op: Operator): { windows: string[]; timers: number } => {
    const windows: string[] = [];
    let timers = 0;
    for (const v of op.snapshot().keyed?.values() ?? []) {
      if (Array.isArray(v)) for (const [start, k] of v as Array<[number, string]>) windows.push(`${k}@${start}|${start + 10}`);
      else {
        const e = v as { state: Array<[string, string, string]>; timers: unknown[] };
        for (const [, ns, k] of e.state) windows.push(`${k}@${ns}`);
        timers += e.timers.length;
      }
    }
    return { windows: windows.sort(), timers };
  };

  for (const [name, make] of [
    ['fast path', (c: OperatorContext, k: (r: Rec) => string): Operator => new FastWindowOperator(c, k as (v: unknown) => string)],
    ['general path', (c: OperatorContext, k: (r: Rec) => string): Operator => new WindowOperator(c, k as (v: unknown) => string)],
  ] as const) {
    it(`${name}: kept at watermark end + lateness - 2, gone at end - 1 + lateness`, () => {
      const { ctx, key } = setup(name === 'general path');
      const op = make(ctx, key);
      op.processBatch(batch({ key: 'a', ts: 3, id: 0, v: 1 }, { key: 'b', ts: 15, id: 1, v: 1 }));
      assert.deepEqual(stateOf(op).windows, ['a@0|10', 'b@10|20']);
      op.processWatermark(9);
      op.processWatermark(13);
      assert.deepEqual(stateOf(op).windows, ['a@0|10', 'b@10|20'], 'window [0,10) is kept until 9 + 5');
      op.processWatermark(14);
      assert.deepEqual(stateOf(op).windows, ['b@10|20'], 'window [0,10) is gone at 14');
      op.processWatermark(23);
      assert.deepEqual(stateOf(op).windows, ['b@10|20']);
      op.processWatermark(24);
      assert.deepEqual(stateOf(op), { windows: [], timers: 0 }, 'window [10,20) and its timers are gone at 24');
    });
  }
});
