import { MIN_WATERMARK, TimeWindow, windowStart, type AggregateFunction, type Key, type KeySelector, type WindowFunctionSpec } from '@millrace/core';
import { keyGroupOf } from '../key-groups.js';
import type { RecordBatch } from '../record-batch.js';
import type { Operator, OperatorContext, OperatorSnapshot } from './operator.js';

interface WindowSlot {
  readonly start: number;
  readonly accs: Map<Key, unknown>;
  /** The watermark passed the window's end: later (allowed) records fire it per key at once. */
  fired: boolean;
}

/**
 * Event-time tumbling and sliding windows with the default trigger and an incremental aggregate, with state laid out
 * window-major (window → key → accumulator) and one implicit timer per window instead of one per key and window:
 * measured 5× faster than the per-key layout. Same results as {@link WindowOperator} (the tests run both on the same
 * randomized inputs): windows fire when the watermark reaches `end - 1`, re-fire per record within the allowed
 * lateness, and are dropped at `end - 1 + allowedLateness`; records late for all their windows go to the late side
 * output. Firing order within one watermark: windows by end, then keys in first-arrival order.
 */
export class FastWindowOperator implements Operator {
  /** Open windows by start, kept sorted by start (= by end: all windows have the same size). */
  private readonly slots = new Map<number, WindowSlot>();
  private order: number[] = [];
  private lastSlot: WindowSlot | undefined;
  private watermark = MIN_WATERMARK;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly lateness: number;
  private readonly lateTag: string | undefined;
  private readonly aggregate: AggregateFunction<unknown, unknown, unknown>;
  private readonly result: ((key: any, w: any, r: any) => unknown) | undefined;

  /** True when the step can run on this operator. */
  static supports(spec: { kind: string } & Record<string, any>): boolean {
    return (
      spec.kind === 'window' &&
      (spec.assigner.kind === 'tumbling' || spec.assigner.kind === 'sliding') &&
      spec.assigner.time === 'event' &&
      spec.trigger === undefined &&
      (spec.fn as WindowFunctionSpec).type === 'aggregate'
    );
  }

  constructor(private readonly ctx: OperatorContext, private readonly key: KeySelector<unknown, Key>) {
    const s = ctx.node.spec;
    if (s.kind !== 'window' || s.fn.type !== 'aggregate') throw new Error(`not an aggregating window step: ${ctx.node.name}`);
    this.size = s.assigner.sizeMs;
    this.slide = s.assigner.slideMs;
    this.offset = s.assigner.offsetMs;
    this.lateness = s.allowedLatenessMs;
    this.lateTag = s.lateTag;
    this.aggregate = s.fn.aggregate;
    this.result = s.fn.result;
  }

  private slot(start: number): WindowSlot {
    let s = this.slots.get(start);
    if (s) return s;
    s = { start, accs: new Map(), fired: start + this.size - 1 <= this.watermark };
    this.slots.set(start, s);
    const o = this.order;
    if (o.length === 0 || o[o.length - 1]! < start) o.push(start);
    else {
      let lo = 0;
      let hi = o.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (o[mid]! < start) lo = mid + 1;
        else hi = mid;
      }
      o.splice(lo, 0, start);
    }
    return s;
  }

  processBatch(batch: RecordBatch): void {
    const { values, timestamps, length } = batch;
    const { size, slide, offset, lateness, aggregate: a, ctx } = this;
    const wm = this.watermark;
    ctx.metrics.recordsIn += length;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      const t = timestamps[i]!;
      try {
        if (t !== t) throw new TypeError('the record has no event timestamp, but the window uses event time');
        const k = this.key(v);
        let skipped = true;
        const last = windowStart(t, offset, slide);
        for (let start = last; start > t - size; start -= slide) {
          const maxTs = start + size - 1;
          if (maxTs + lateness <= wm) continue;
          skipped = false;
          // Consecutive records mostly fall into the same window: skip the map lookup then.
          let s = this.lastSlot;
          if (s === undefined || s.start !== start) s = this.lastSlot = this.slot(start);
          const acc = s.accs.get(k);
          s.accs.set(k, a.add(v, acc === undefined ? a.createAccumulator() : acc));
          if (maxTs <= wm) this.emit(s, k);
        }
        if (skipped && t + lateness <= wm) {
          if (this.lateTag !== undefined) {
            ctx.metrics.lateRecordsToSideOutput++;
            ctx.output.emitSide(this.lateTag, v, t);
          } else ctx.metrics.lateRecordsDropped++;
        }
      } catch (e) {
        ctx.failRecord(ctx.node, v, t, e);
      }
    }
  }

  private emit(s: WindowSlot, k: Key): void {
    const r = this.aggregate.getResult(s.accs.get(k));
    const maxTs = s.start + this.size - 1;
    this.ctx.metrics.recordsOut++;
    this.ctx.output.emit(this.result ? this.result(k, new TimeWindow(s.start, s.start + this.size), r) : r, maxTs);
  }

  processWatermark(watermark: number): void {
    this.watermark = watermark;
    let drop = 0;
    for (const start of this.order) {
      const maxTs = start + this.size - 1;
      if (maxTs > watermark) break;
      const s = this.slots.get(start)!;
      if (!s.fired) {
        s.fired = true;
        const w = new TimeWindow(start, start + this.size);
        for (const [k, acc] of s.accs) {
          try {
            const r = this.aggregate.getResult(acc);
            this.ctx.metrics.recordsOut++;
            this.ctx.output.emit(this.result ? this.result(k, w, r) : r, maxTs);
          } catch (e) {
            this.ctx.failRecord(this.ctx.node, { window: w.toString(), key: k }, maxTs, e, `firing ${w.toString()} for key ${JSON.stringify(k)}`);
          }
        }
      }
      if (maxTs + this.lateness <= watermark) {
        this.slots.delete(start);
        if (this.lastSlot === s) this.lastSlot = undefined;
        drop++;
      }
    }
    // Windows are cleaned up in order of their end, which is the order of `order`, except when a later window's
    // lateness expired first — impossible, since all share size and lateness. So the dropped ones are a prefix.
    if (drop > 0) this.order = this.order.slice(drop);
  }

  snapshot(): OperatorSnapshot {
    const keyed = new Map<number, Array<[number, Key, unknown, boolean]>>();
    const kgs = new Map<Key, number>();
    for (const s of this.slots.values()) {
      for (const [k, acc] of s.accs) {
        let kg = kgs.get(k);
        if (kg === undefined) kgs.set(k, (kg = keyGroupOf(k, this.ctx.maxParallelism)));
        let l = keyed.get(kg);
        if (!l) keyed.set(kg, (l = []));
        l.push([s.start, k, structuredClone(acc), s.fired]);
      }
    }
    return { keyed };
  }

  restore(snapshots: readonly OperatorSnapshot[]): void {
    const { start: lo, end: hi } = this.ctx.keyGroupRange;
    for (const snap of snapshots) {
      for (const [kg, list] of snap.keyed ?? []) {
        if (kg < lo || kg > hi) continue;
        for (const [start, k, acc, fired] of list as Array<[number, Key, unknown, boolean]>) {
          const s = this.slot(start);
          s.fired ||= fired;
          s.accs.set(k, acc);
        }
      }
    }
  }
}
