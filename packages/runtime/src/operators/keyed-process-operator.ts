import type { Key, KeyedProcessFunction, KeySelector, OutputTag, PlanNode, StateDescriptor } from '@millrace/core';
import { MIN_WATERMARK } from '@millrace/core';
import type { RecordBatch } from '../record-batch.js';
import { DEFAULT_NAMESPACE, HeapKeyedStateBackend } from '../state/heap-keyed-state.js';
import { InternalTimerService, type Timer } from '../state/timer-service.js';
import type { Operator, OperatorContext, OperatorSnapshot } from './operator.js';
import { restoreKeyed, snapshotKeyed } from '../state/keyed-snapshot.js';

/**
 * Runs a `KeyedProcessFunction`: per record, sets the current key and calls `onElement` with the key's state and
 * timers; fires timers in time order as the watermark or processing time passes them. Results of `onElement` carry
 * the input's timestamp; results of `onTimer` carry the timer's.
 */
export class KeyedProcessOperator implements Operator {
  private readonly backend: HeapKeyedStateBackend;
  private readonly timers: InternalTimerService;
  private readonly fn: KeyedProcessFunction<Key, unknown, unknown, Record<string, StateDescriptor>>;
  private watermark = MIN_WATERMARK;
  private currentTimestamp = Number.NaN;
  private domain: 'event' | 'processing' = 'event';
  private readonly context: Record<string, unknown>;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly key: KeySelector<unknown, Key>,
  ) {
    const node = ctx.node;
    if (node.spec.kind !== 'keyed-process') throw new Error(`not a keyed process step: ${node.name}`);
    this.fn = node.spec.fn;
    this.backend = new HeapKeyedStateBackend(ctx.clock, ctx.maxParallelism);
    this.timers = new InternalTimerService(ctx.maxParallelism);
    const state: Record<string, unknown> = {};
    for (const [name, d] of Object.entries(node.spec.states)) state[name] = this.backend.register(name, d);
    const self = this;
    const timers = {
      get currentWatermark() { return self.watermark; },
      get currentProcessingTime() { return self.ctx.clock.now(); },
      registerEventTimeTimer: (ts: number) => this.timers.registerEventTimeTimer(ts, this.backend.currentKey, DEFAULT_NAMESPACE),
      registerProcessingTimeTimer: (ts: number) => {
        this.timers.registerProcessingTimeTimer(ts, this.backend.currentKey, DEFAULT_NAMESPACE);
        this.ctx.requestProcessingTime(ts);
      },
      deleteEventTimeTimer: (ts: number) => this.timers.deleteEventTimeTimer(ts, this.backend.currentKey, DEFAULT_NAMESPACE),
      deleteProcessingTimeTimer: (ts: number) => this.timers.deleteProcessingTimeTimer(ts, this.backend.currentKey, DEFAULT_NAMESPACE),
    };
    this.context = {
      get key() { return self.backend.currentKey; },
      get timestamp() { return self.currentTimestamp === self.currentTimestamp ? self.currentTimestamp : undefined; },
      get timeDomain() { return self.domain; },
      state,
      timers,
      emit: (value: unknown, ts?: number) => { this.ctx.metrics.recordsOut++; this.ctx.output.emit(value, ts ?? this.currentTimestamp); },
      output: (tag: OutputTag<unknown>, value: unknown, ts?: number) => this.ctx.output.emitSide(tag.id, value, ts ?? this.currentTimestamp),
    };
  }

  processBatch(batch: RecordBatch): void {
    const { values, timestamps, length } = batch;
    const node: PlanNode = this.ctx.node;
    this.ctx.metrics.recordsIn += length;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      const t = timestamps[i]!;
      try {
        this.backend.currentKey = this.key(v);
        this.currentTimestamp = t;
        this.fn.onElement(v, this.context as never);
      } catch (e) {
        this.ctx.failRecord(node, v, t, e);
      }
    }
  }

  processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.domain = 'event';
    for (let t: Timer | undefined; (t = this.timers.pollEventTime(watermark)); ) this.fire(t);
  }

  onProcessingTime(now: number): void {
    this.domain = 'processing';
    for (let t: Timer | undefined; (t = this.timers.pollProcessingTime(now)); ) this.fire(t);
    this.domain = 'event';
    const next = this.timers.nextProcessingTime();
    if (next !== undefined) this.ctx.requestProcessingTime(next);
  }

  private fire(t: Timer): void {
    if (!this.fn.onTimer) return;
    this.backend.currentKey = t.key;
    this.currentTimestamp = t.timestamp;
    try {
      this.fn.onTimer(t.timestamp, this.context as never);
    } catch (e) {
      this.ctx.failRecord(this.ctx.node, { timer: t.timestamp, key: t.key }, t.timestamp, e, `in onTimer for key ${JSON.stringify(t.key)}`);
    }
  }

  snapshot(): OperatorSnapshot {
    return snapshotKeyed(this.backend, this.timers);
  }

  restore(snapshots: readonly OperatorSnapshot[]): void {
    const next = restoreKeyed(snapshots, this.ctx.keyGroupRange, this.backend, this.timers);
    if (next !== undefined) this.ctx.requestProcessingTime(next);
  }

  describeState(): unknown {
    return this.backend.descriptors();
  }
}
