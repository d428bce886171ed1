/**
 * Window semantics equal Apache Flink's `WindowOperator` with `EventTimeTrigger`: randomized out-of-order inputs run
 * through tumbling (with and without offset), sliding and session windows, with and without allowed lateness, and the
 * job's output must equal a record-by-record reference written here from the definitions alone:
 *
 * - windows are `[start, end)` with `start = offset + k * slide` (tumbling: slide = size); sessions start as
 *   `[ts, ts + gap)` and merge with every session they overlap or touch;
 * - a window fires when the watermark reaches `end - 1`, once;
 * - a record for a window whose `end - 1` the watermark already reached, but not `end - 1 + allowedLateness`, re-fires
 *   that window at once with the updated aggregate;
 * - a window's state is dropped when the watermark reaches `end - 1 + allowedLateness`;
 * - a record goes to the late side output exactly when every window it belongs to is past that point;
 * - with `batchSize: 1` and `boundedOutOfOrderness(d)` the watermark after each record is `max ts - d - 1`; at end of
 *   input it jumps to +infinity.
 *
 * Each scenario runs on the window-major fast path (default trigger, aggregate), on the general path (explicit
 * `triggers.eventTime()`) and with a full-window process function (general path, list state); all must equal the
 * reference. Session windows have no fast path: there the "default" variant runs the general path with the
 * assigner's default trigger. Seeds are fixed; a failure names its seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { triggers, windows, type DataStream, type TimeWindow, type WindowAssigner } from '@millrace/core';
import { FastWindowOperator } from '../src/index.js';
import {
  LATE, contentsAggregate, intIn, mulberry32, runBounded, sortRows, withTimestamps,
  type LateRow, type Rec, type RowValue, type WindowRow,
} from './window-test-kit.js';

const SEEDS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946];

type Scenario =
  | { readonly name: string; readonly kind: 'sliding'; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly name: string; readonly kind: 'session'; readonly gap: number };

const SCENARIOS: readonly Scenario[] = [
  { name: 'tumbling 10', kind: 'sliding', size: 10, slide: 10, offset: 0 },
  { name: 'tumbling 10, offset 3', kind: 'sliding', size: 10, slide: 10, offset: 3 },
  { name: 'tumbling 10, offset -4', kind: 'sliding', size: 10, slide: 10, offset: -4 },
  { name: 'sliding 15 every 5', kind: 'sliding', size: 15, slide: 5, offset: 0 },
  { name: 'sliding 10 every 4, offset 2', kind: 'sliding', size: 10, slide: 4, offset: 2 },
  { name: 'session gap 7', kind: 'session', gap: 7 },
];

const LATENESS = [0, 12] as const;

/** How the step is built: fast path, general path (explicit trigger), full-window process function. */
type Variant = 'default' | 'explicit-trigger' | 'process';
const VARIANTS: readonly Variant[] = ['default', 'explicit-trigger', 'process'];

function assignerOf(s: Scenario): WindowAssigner<TimeWindow> {
  if (s.kind === 'session') return windows.session(s.gap);
  if (s.size === s.slide) return windows.tumbling(s.size, { offset: s.offset });
  return windows.sliding(s.size, s.slide, { offset: s.offset });
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

interface Input {
  readonly records: Rec[];
  readonly delay: number;
}

/**
 * Out-of-order records: a clock moves forward in small steps (0 gives equal timestamps), now and then jumps; most
 * records trail it by at most `delay` (in time for the watermark), about one in eight by more (some of those late).
 * Timestamps start below zero.
 */
function generate(seed: number, reach: number, lateness: number): Input {
  const rnd = mulberry32(seed);
  const delay = intIn(rnd, 0, 6);
  const keys = ['a', 'b', 'c', 'd'].slice(0, intIn(rnd, 1, 4));
  const n = intIn(rnd, 40, 160);
  let clock = intIn(rnd, -300, 50);
  const records: Rec[] = [];
  for (let id = 0; id < n; id++) {
    clock += rnd() < 0.05 ? intIn(rnd, 10, 40) : intIn(rnd, 0, 4);
    const ts = rnd() < 0.12 ? clock - delay - intIn(rnd, 1, 2 * reach + lateness) : clock - intIn(rnd, 0, delay);
    records.push({ key: keys[intIn(rnd, 0, keys.length - 1)]!, ts, id, v: intIn(rnd, -5, 20) });
  }
  return { records, delay };
}

// ---------------------------------------------------------------------------------------------------------------
// Reference: record by record, from the definitions

interface RefWindow {
  readonly start: number;
  readonly end: number;
  readonly ids: number[];
  sum: number;
}

interface Reference {
  readonly rows: WindowRow[];
  readonly late: LateRow[];
  /** Firings caused by a record arriving after its window fired (for coverage checks). */
  readonly lateFirings: number;
}

/** All `[start, end)` with `start = offset + k * slide` and `start <= ts < end`. */
function slidingWindowsOf(ts: number, size: number, slide: number, offset: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = Math.floor((ts - offset) / slide); offset + k * slide + size > ts; k--) out.push([offset + k * slide, offset + k * slide + size]);
  return out;
}

function reference(s: Scenario, input: Input, lateness: number): Reference {
  const rows: WindowRow[] = [];
  const late: LateRow[] = [];
  let lateFirings = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  const state = new Map<string, RefWindow[]>();
  const isExpired = (w: { end: number }, wm: number): boolean => w.end - 1 + lateness <= wm;
  const row = (key: string, w: RefWindow): WindowRow => ({
    key, start: w.start, end: w.end, n: w.ids.length, sum: w.sum, ids: [...w.ids].sort((a, b) => a - b), ts: w.end - 1,
  });

  const advance = (wm: number): void => {
    if (wm <= watermark) return;
    for (const [key, ws] of state) {
      for (const w of ws) if (w.end - 1 > watermark && w.end - 1 <= wm) rows.push(row(key, w));
      state.set(key, ws.filter((w) => !isExpired(w, wm)));
    }
    watermark = wm;
  };

  for (const r of input.records) {
    const ws = state.get(r.key) ?? [];
    state.set(r.key, ws);
    if (s.kind === 'session') {
      let merged = { start: r.ts, end: r.ts + s.gap };
      let absorbed: RefWindow[] = [];
      for (let grew = true; grew; ) {
        grew = false;
        for (const w of ws) {
          if (!absorbed.includes(w) && w.start <= merged.end && w.end >= merged.start) {
            absorbed = [...absorbed, w];
            merged = { start: Math.min(merged.start, w.start), end: Math.max(merged.end, w.end) };
            grew = true;
          }
        }
      }
      if (isExpired(merged, watermark)) {
        late.push({ id: r.id, ts: r.ts });
      } else {
        const w: RefWindow = {
          start: merged.start, end: merged.end,
          ids: [...absorbed.flatMap((a) => a.ids), r.id], sum: absorbed.reduce((x, a) => x + a.sum, 0) + r.v,
        };
        state.set(r.key, [...ws.filter((x) => !absorbed.includes(x)), w]);
        if (w.end - 1 <= watermark) {
          rows.push(row(r.key, w));
          lateFirings++;
        }
      }
    } else {
      let live = false;
      for (const [start, end] of slidingWindowsOf(r.ts, s.size, s.slide, s.offset)) {
        if (isExpired({ end }, watermark)) continue;
        live = true;
        let w = ws.find((x) => x.start === start);
        if (!w) ws.push((w = { start, end, ids: [], sum: 0 }));
        w.ids.push(r.id);
        w.sum += r.v;
        if (end - 1 <= watermark) {
          rows.push(row(r.key, w));
          lateFirings++;
        }
      }
      if (!live) late.push({ id: r.id, ts: r.ts });
    }
    maxTs = Math.max(maxTs, r.ts);
    advance(maxTs - input.delay - 1);
  }
  advance(Number.POSITIVE_INFINITY);
  return { rows, late, lateFirings };
}

// ---------------------------------------------------------------------------------------------------------------
// The job under test

async function runVariant(s: Scenario, input: Input, lateness: number, variant: Variant): Promise<{ rows: WindowRow[]; late: LateRow[]; fast: boolean }> {
  const build = (src: DataStream<Rec>): { out: DataStream<RowValue>; late: DataStream<Rec> } => {
    let windowed = src.keyBy((r) => r.key).window(assignerOf(s)).allowedLateness(lateness).sideOutputLateData(LATE);
    if (variant === 'explicit-trigger') windowed = windowed.trigger(triggers.eventTime());
    const out =
      variant === 'process'
        ? windowed.process<RowValue>((key, w, elements, c) => {
            const ids = elements.map((e) => e.id).sort((a, b) => a - b);
            c.emit({ key, start: w.start, end: w.end, n: elements.length, sum: elements.reduce((x, e) => x + e.v, 0), ids });
          }, { uid: 'win' })
        : windowed.aggregate(contentsAggregate, (key, w, r): RowValue => ({ key, start: w.start, end: w.end, ...r }), { uid: 'win' });
    return { out, late: out.getSideOutput(LATE) };
  };
  const { out, late, plan } = await runBounded(input.records, input.delay, build);
  const node = plan.nodes.find((n) => n.uid === 'win')!;
  return {
    rows: withTimestamps(out),
    late: late.map((l) => ({ id: l.value.id, ts: l.timestamp })),
    fast: FastWindowOperator.supports(node.spec as { kind: string }),
  };
}

const byId = (a: LateRow, b: LateRow): number => a.id - b.id;

describe('window semantics equal Flink (randomized, reference model)', () => {
  for (const s of SCENARIOS) {
    for (const lateness of LATENESS) {
      describe(`${s.name}, allowed lateness ${lateness}`, () => {
        const reach = s.kind === 'session' ? s.gap : s.size;
        const inputs = SEEDS.map((seed) => ({ seed, input: generate(seed, reach, lateness) }));
        const refs = inputs.map(({ input }) => reference(s, input, lateness));

        it('the generated inputs exercise late records, re-firings and negative timestamps', () => {
          assert.ok(refs.some((r) => r.late.length > 0), 'no seed produced a late record');
          assert.ok(inputs.some(({ input }) => input.records.some((r) => r.ts < 0)), 'no negative timestamps');
          if (lateness > 0) assert.ok(refs.some((r) => r.lateFirings > 0), 'no seed re-fired a window for a late record');
          else assert.equal(refs.reduce((n, r) => n + r.lateFirings, 0), 0, 'without lateness nothing re-fires');
        });

        for (const variant of VARIANTS) {
          const expectFast = variant === 'default' && s.kind !== 'session';
          it(`${variant === 'default' ? (expectFast ? 'fast path' : 'default trigger') : variant === 'explicit-trigger' ? 'general path (explicit trigger)' : 'process function'} equals the reference`, async () => {
            for (let i = 0; i < SEEDS.length; i++) {
              const seed = SEEDS[i]!;
              const ref = refs[i]!;
              const got = await runVariant(s, inputs[i]!.input, lateness, variant);
              assert.equal(got.fast, expectFast, `seed ${seed}: fast path chosen = ${got.fast}`);
              assert.deepEqual(sortRows(got.rows), sortRows(ref.rows), `seed ${seed}: window results differ`);
              assert.deepEqual([...got.late].sort(byId), [...ref.late].sort(byId), `seed ${seed}: late side output differs`);
            }
          });
        }
      });
    }
  }
});
