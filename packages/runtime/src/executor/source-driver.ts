import { DEAD_LETTERS, MAX_WATERMARK, MIN_WATERMARK, type Source, type SourceDeadLetter, type SourceBatch, type SourceReader, type WatermarkGenerator, type WatermarkStrategy } from '@millrace/core';
import { deadLetter } from '../operators/operator.js';
import { NO_TIMESTAMP } from '../record-batch.js';
import type { BusyClock, Subtask } from './subtask.js';

interface SplitState {
  generator: WatermarkGenerator<unknown> | undefined;
  /** Highest watermark emitted for the split (restored from checkpoints, never goes back). */
  watermark: number;
  lastActive: number;
  idle: boolean;
}

/** The position a source subtask stores in a checkpoint. */
export interface SourcePosition {
  readonly position: unknown;
  readonly splits: Record<string, number>;
}

/**
 * Drives one source subtask: assigns timestamps, generates watermarks per split (the source's watermark is the
 * minimum over its active splits; a split idle for the strategy's idleness timeout stops holding it back), and
 * records the reader's position at barriers. Used by the executor's read loop and by test drivers that push records.
 */
export class SourceDriver {
  private readonly splits = new Map<string, SplitState>();
  private emitted = MIN_WATERMARK;
  private idle = false;
  private readonly timestampBuf: number[] = [];
  /** Processing time when the driver was created: a source that never produced a record counts as active since then. */
  private readonly activeSince: number;
  recordsRead = 0;

  constructor(
    readonly subtask: Subtask,
    readonly source: Source<unknown>,
    readonly reader: SourceReader<unknown>,
    private readonly strategy: WatermarkStrategy<unknown> | undefined,
    private readonly busy: BusyClock,
  ) {
    this.activeSince = subtask.ctx.clock.now();
    subtask.operatorState = (id) => ({ position: reader.snapshot(id), splits: Object.fromEntries([...this.splits].map(([k, s]) => [k, s.watermark])) } satisfies SourcePosition);
  }

  /** The idleness timeout of this source's watermark strategy, if it has one. */
  get idlenessMs(): number | undefined {
    return this.strategy?.idlenessMs;
  }

  /** Restores the reader's position and the splits' watermarks, and re-emits the watermark reached before. */
  async restore(pos: SourcePosition | undefined, all: readonly SourcePosition[]): Promise<void> {
    await this.reader.restore?.(pos?.position, all.map((p) => p.position));
    if (!pos) return;
    const now = this.subtask.ctx.clock.now();
    for (const [split, wm] of Object.entries(pos.splits)) {
      this.splits.set(split, { generator: this.strategy?.createGenerator(), watermark: wm, lastActive: now, idle: false });
    }
    this.advanceWatermark();
  }

  private split(name: string): SplitState {
    let s = this.splits.get(name);
    if (!s) this.splits.set(name, (s = { generator: this.strategy?.createGenerator(), watermark: MIN_WATERMARK, lastActive: this.subtask.ctx.clock.now(), idle: false }));
    return s;
  }

  /** Sends a batch read from the source down the chain, then the watermark it leads to. */
  emit(batch: SourceBatch<unknown>, explicitTimestamps?: readonly number[]): void {
    const busy = this.subtask.ctx === undefined ? undefined : this.busy;
    busy?.enter(this.subtask.metrics);
    try {
      this.emitBatch(batch, explicitTimestamps);
    } finally {
      busy?.exit();
    }
  }

  private emitBatch(batch: SourceBatch<unknown>, explicitTimestamps?: readonly number[]): void {
    if (batch.deadLetters !== undefined && batch.deadLetters.length > 0) this.emitDeadLetters(batch.deadLetters);
    const values = batch.values;
    const n = values.length;
    if (n === 0) return;
    this.recordsRead += n;
    const s = this.split(batch.split ?? '');
    s.lastActive = this.subtask.ctx.clock.now();
    s.idle = false;
    if (this.idle) this.idle = false;
    const given = explicitTimestamps ?? batch.timestamps;
    if (!this.strategy) {
      // No event time assigned here: pass the source's timestamps, or a shared array of "none".
      let ts = given;
      if (!ts) {
        const none = this.timestampBuf;
        if (none.length < n) { const from = none.length; none.length = n; none.fill(NO_TIMESTAMP, from); }
        ts = none;
      }
      this.subtask.onBatch(values, ts, n);
      this.subtask.flushSides();
      return;
    }
    const ts = this.timestampBuf;
    ts.length = n;
    const assign = this.strategy.timestampAssigner;
    const gen = s.generator;
    let failures = 0;
    for (let i = 0; i < n; i++) {
      const t0 = given ? given[i]! : NO_TIMESTAMP;
      let t = t0;
      if (assign) {
        try {
          t = assign(values[i], t0 === t0 ? t0 : undefined);
          if (typeof t !== 'number' || t !== t) throw new TypeError(`the timestamp assigner returned ${String(t)}, not a number`);
        } catch (e) {
          ts[i] = NO_TIMESTAMP;
          failures++;
          this.subtask.ctx.failRecord(this.subtask.headNode, values[i], t0, e);
          continue;
        }
      } else if (t0 !== t0) {
        ts[i] = NO_TIMESTAMP;
        failures++;
        this.subtask.ctx.failRecord(this.subtask.headNode, values[i], t0, new TypeError('the watermark strategy has no timestamp assigner (withTimestamp) and the source attached no timestamp'));
        continue;
      }
      ts[i] = t;
      gen?.onEvent(values[i], t);
    }
    // Records whose timestamp could not be assigned went to dead letters (or failed the job): leave them out.
    let vals: readonly unknown[] = values;
    let count = n;
    if (failures > 0) {
      const kept: unknown[] = [];
      for (let i = 0; i < n; i++) {
        if (ts[i] !== ts[i]) continue;
        ts[kept.length] = ts[i]!;
        kept.push(values[i]);
      }
      vals = kept;
      count = kept.length;
    }
    this.subtask.onBatch(vals, ts, count);
    this.subtask.flushSides();
    if (gen) {
      const wm = gen.currentWatermark();
      if (wm > s.watermark) s.watermark = wm;
    }
    this.advanceWatermark();
  }

  /** Sends what the reader skipped to the job's dead letters; without a consumer they are dropped (the reader logs them). */
  private emitDeadLetters(skipped: readonly SourceDeadLetter[]): void {
    const node = this.subtask.headNode;
    if (!this.subtask.sides.has(`${node.id}:${DEAD_LETTERS.id}`)) return;
    for (const d of skipped) {
      this.subtask.metrics.deadLetters++;
      this.subtask.ctx.output.emitSide(DEAD_LETTERS.id, deadLetter(node, d.value, NO_TIMESTAMP, d.error), NO_TIMESTAMP, node);
    }
    this.subtask.flushSides();
  }

  /** Adds time this source waited for its outputs (backpressure). */
  addBackpressure(ms: number): void {
    this.subtask.metrics.backpressuredMs += ms;
  }

  /** Forces a split's watermark forward (test drivers, and sources that know their event time). */
  forceWatermark(watermark: number, split = ''): void {
    const s = this.split(split);
    if (watermark > s.watermark) s.watermark = watermark;
    s.idle = false;
    this.idle = false;
    this.advanceWatermark();
  }

  /** Marks splits idle that had no records for the idleness timeout; returns true when the watermark moved. */
  checkIdleness(now: number): void {
    const timeout = this.strategy?.idlenessMs;
    if (timeout === undefined) return;
    for (const s of this.splits.values()) if (!s.idle && now - s.lastActive >= timeout) s.idle = true;
    // No split has produced a record yet: idle once the timeout has passed since the start, as a split would be.
    const allIdle = this.splits.size > 0 ? [...this.splits.values()].every((s) => s.idle) : now - this.activeSince >= timeout;
    if (allIdle) {
      if (!this.idle) {
        this.idle = true;
        this.subtask.main?.broadcast({ kind: 'idle' });
      }
      return;
    }
    this.advanceWatermark();
  }

  private advanceWatermark(): void {
    // A source without event-time order holds its watermark until end of input (see Source.unorderedEventTime).
    if (!this.strategy || this.source.unorderedEventTime) return;
    // Splits the reader owns but that have delivered nothing yet hold the watermark back (from minus infinity).
    const owned = this.reader.ownedSplits?.();
    if (owned) for (const name of owned) this.split(name);
    let min = MAX_WATERMARK;
    let any = false;
    for (const s of this.splits.values()) {
      if (s.idle) continue;
      any = true;
      if (s.watermark < min) min = s.watermark;
    }
    if (!any || min <= this.emitted) return;
    this.emitted = min;
    this.subtask.onWatermark(min);
  }

  /** End of input: the watermark jumps to the maximum, every window fires, end passes downstream. */
  end(): void {
    this.subtask.onWatermark(MAX_WATERMARK);
    this.subtask.finish();
  }
}
