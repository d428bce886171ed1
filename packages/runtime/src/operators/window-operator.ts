import {
  GlobalWindow, MAX_WATERMARK, MIN_WATERMARK, TimeWindow,
  type AggregateFunction, type Key, type KeySelector, type OutputTag, type Trigger, type TriggerContext, type TriggerResult,
  type ValueState, type ValueStateDescriptor, type Window, type WindowAssigner, type WindowFunctionSpec,
} from '@millrace/core';
import type { RecordBatch } from '../record-batch.js';
import { DEFAULT_NAMESPACE, HeapKeyedStateBackend } from '../state/heap-keyed-state.js';
import { InternalTimerService, type Timer } from '../state/timer-service.js';
import type { Operator, OperatorContext, OperatorSnapshot } from './operator.js';
import { restoreKeyed, snapshotKeyed } from '../state/keyed-snapshot.js';

const CONTENTS = 'window-contents';
const SESSIONS = 'session-windows';

/** A window's state namespace: `start|end`, or `g` for the global window. */
export function windowNamespace(w: Window): string {
  return w.kind === 'global' ? 'g' : `${w.start}|${w.end}`;
}
function windowOf(ns: string): Window {
  if (ns === 'g') return GlobalWindow.INSTANCE;
  const i = ns.indexOf('|');
  return new TimeWindow(Number(ns.slice(0, i)), Number(ns.slice(i + 1)));
}

/**
 * The general window operator, with Flink's `WindowOperator` semantics: any assigner (tumbling, sliding, session with
 * merging, global), any trigger, allowed lateness, late side output, incremental or full-window functions. State and
 * timers are per key and window (namespace). Built-in event-time tumbling and sliding windows with the default
 * trigger run on {@link FastWindowOperator} instead, which gives the same results faster.
 *
 * - A window is late when `window.maxTimestamp + allowedLateness <= watermark` (its cleanup time has passed).
 * - A record all of whose windows are late is sent to the late side output when its timestamp + allowedLateness <=
 *   watermark (else it is counted and dropped, like Flink, but never silently: see the metrics).
 * - Results carry the window's `maxTimestamp` as timestamp.
 * - A window's state is cleared at its cleanup time.
 */
export class WindowOperator implements Operator {
  private readonly backend: HeapKeyedStateBackend;
  private readonly timers: InternalTimerService;
  private readonly assigner: WindowAssigner<Window>;
  private readonly trigger: Trigger<Window>;
  private readonly lateness: number;
  private readonly lateTag: string | undefined;
  private readonly fn: WindowFunctionSpec;
  private readonly isEventTime: boolean;
  private readonly contents: { value(): unknown; update(v: unknown): void; clear(): void };
  private readonly sessions: ValueState<string[]> | undefined;
  private readonly triggerStates = new Map<string, ValueState<unknown>>();
  private watermark = MIN_WATERMARK;
  private window: Window = GlobalWindow.INSTANCE;
  private readonly triggerContext: TriggerContext;
  private readonly collector: { emit(v: unknown, ts?: number): void; output(tag: OutputTag<unknown>, v: unknown, ts?: number): void; currentWatermark: number; currentProcessingTime: number };

  constructor(private readonly ctx: OperatorContext, private readonly key: KeySelector<unknown, Key>) {
    const s = ctx.node.spec;
    if (s.kind !== 'window') throw new Error(`not a window step: ${ctx.node.name}`);
    this.assigner = s.assigner;
    this.trigger = s.trigger ?? s.assigner.defaultTrigger();
    this.lateness = s.allowedLatenessMs;
    this.lateTag = s.lateTag;
    this.fn = s.fn;
    this.isEventTime = s.assigner.time === 'event';
    this.backend = new HeapKeyedStateBackend(ctx.clock, ctx.maxParallelism);
    this.timers = new InternalTimerService(ctx.maxParallelism);
    this.contents = this.backend.register(CONTENTS, { kind: 'value', ttlMs: undefined, version: 1 } as ValueStateDescriptor<unknown>) as ValueState<unknown>;
    if (this.assigner.merging) {
      this.sessions = this.backend.register(SESSIONS, { kind: 'value', ttlMs: undefined, version: 1 } as ValueStateDescriptor<string[]>) as ValueState<string[]>;
    }
    const self = this;
    this.triggerContext = {
      get currentWatermark() { return self.watermark; },
      get currentProcessingTime() { return self.ctx.clock.now(); },
      registerEventTimeTimer: (t) => this.timers.registerEventTimeTimer(t, this.backend.currentKey, windowNamespace(this.window)),
      registerProcessingTimeTimer: (t) => {
        this.timers.registerProcessingTimeTimer(t, this.backend.currentKey, windowNamespace(this.window));
        this.ctx.requestProcessingTime(t);
      },
      deleteEventTimeTimer: (t) => this.timers.deleteEventTimeTimer(t, this.backend.currentKey, windowNamespace(this.window)),
      deleteProcessingTimeTimer: (t) => this.timers.deleteProcessingTimeTimer(t, this.backend.currentKey, windowNamespace(this.window)),
      state: <T>(name: string, d: ValueStateDescriptor<T>): ValueState<T> => {
        let st = this.triggerStates.get(name);
        if (!st) this.triggerStates.set(name, (st = this.backend.register(`trigger:${name}`, d) as ValueState<unknown>));
        return st as ValueState<T>;
      },
    };
    this.collector = {
      emit: (v, ts) => { this.ctx.metrics.recordsOut++; this.ctx.output.emit(v, ts ?? this.window.maxTimestamp); },
      output: (tag, v, ts) => this.ctx.output.emitSide(tag.id, v, ts ?? this.window.maxTimestamp),
      get currentWatermark() { return self.watermark; },
      get currentProcessingTime() { return self.ctx.clock.now(); },
    };
  }

  private cleanupTime(w: Window): number {
    if (w.maxTimestamp === MAX_WATERMARK) return MAX_WATERMARK;
    return this.isEventTime ? w.maxTimestamp + this.lateness : w.maxTimestamp;
  }
  private isWindowLate(w: Window): boolean {
    return this.isEventTime && this.cleanupTime(w) <= this.watermark;
  }

  processBatch(batch: RecordBatch): void {
    const { values, timestamps, length } = batch;
    this.ctx.metrics.recordsIn += length;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      const t = timestamps[i]!;
      try {
        this.processElement(v, t);
      } catch (e) {
        this.ctx.failRecord(this.ctx.node, v, t, e);
      }
    }
  }

  private processElement(value: unknown, timestamp: number): void {
    const time = this.isEventTime ? timestamp : this.ctx.clock.now();
    if (this.isEventTime && this.assigner.kind !== 'global' && timestamp !== timestamp) {
      throw new TypeError('the record has no event timestamp, but the window uses event time');
    }
    this.backend.currentKey = this.key(value);
    const assigned = this.assigner.assignWindows(time);
    let skipped = true;
    for (const w of assigned) {
      const actual = this.sessions ? this.mergeInto(w as TimeWindow) : w;
      if (this.isWindowLate(actual)) {
        if (this.sessions) this.retireSession(actual);
        continue;
      }
      skipped = false;
      this.window = actual;
      this.backend.currentNamespace = windowNamespace(actual);
      this.add(value);
      const r = this.trigger.onElement(value, timestamp, actual, this.triggerContext);
      this.act(r, actual);
      this.registerCleanup(actual);
    }
    if (skipped && this.isEventTime && timestamp + this.lateness <= this.watermark) {
      if (this.lateTag !== undefined) {
        this.ctx.metrics.lateRecordsToSideOutput++;
        this.ctx.output.emitSide(this.lateTag, value, timestamp);
      } else {
        this.ctx.metrics.lateRecordsDropped++;
      }
    }
  }

  private add(value: unknown): void {
    if (this.fn.type === 'aggregate') {
      const a = this.fn.aggregate as AggregateFunction<unknown, unknown, unknown>;
      const acc = this.contents.value();
      this.contents.update(a.add(value, acc === undefined ? a.createAccumulator() : acc));
    } else {
      const l = this.contents.value() as unknown[] | undefined;
      if (l) l.push(value);
      else this.contents.update([value]);
    }
  }

  private act(r: TriggerResult, w: Window): void {
    if (r === 'FIRE' || r === 'FIRE_AND_PURGE') {
      const c = this.contents.value();
      if (c !== undefined) this.emitWindow(w, c);
    }
    if (r === 'PURGE' || r === 'FIRE_AND_PURGE') this.contents.clear();
  }

  private emitWindow(w: Window, contents: unknown): void {
    const key = this.backend.currentKey;
    if (this.fn.type === 'aggregate') {
      const result = this.fn.aggregate.getResult(contents);
      this.collector.emit(this.fn.result ? this.fn.result(key, w, result) : result, w.maxTimestamp);
    } else {
      this.fn.process(key, w, contents as unknown[], this.collector);
    }
  }

  private registerCleanup(w: Window): void {
    const t = this.cleanupTime(w);
    if (t === MAX_WATERMARK) return;
    if (this.isEventTime) this.timers.registerEventTimeTimer(t, this.backend.currentKey, windowNamespace(w));
    else {
      this.timers.registerProcessingTimeTimer(t, this.backend.currentKey, windowNamespace(w));
      this.ctx.requestProcessingTime(t);
    }
  }

  private deleteCleanup(w: Window): void {
    const t = this.cleanupTime(w);
    if (t === MAX_WATERMARK) return;
    if (this.isEventTime) this.timers.deleteEventTimeTimer(t, this.backend.currentKey, windowNamespace(w));
    else this.timers.deleteProcessingTimeTimer(t, this.backend.currentKey, windowNamespace(w));
  }

  /** The key's session windows (namespaces). Kept in the default namespace, whatever window is current. */
  private sessionList(): string[] {
    return (this.backend.peek(SESSIONS, DEFAULT_NAMESPACE) as string[] | undefined) ?? [];
  }

  private setSessionList(list: readonly string[]): void {
    const saved = this.backend.currentNamespace;
    this.backend.currentNamespace = DEFAULT_NAMESPACE;
    if (list.length > 0) this.sessions!.update([...list]);
    else this.sessions!.clear();
    this.backend.currentNamespace = saved;
  }

  /** Makes `w` the window that trigger calls, trigger state and window state refer to. */
  private enterWindow(w: Window): void {
    this.window = w;
    this.backend.currentNamespace = windowNamespace(w);
  }

  /** Adds `w` to the key's session windows, merging overlapping ones (state, trigger and cleanup timers follow). */
  private mergeInto(w: TimeWindow): TimeWindow {
    const current = this.sessionList().map((ns) => windowOf(ns) as TimeWindow);
    let merged = w;
    const absorbed: TimeWindow[] = [];
    let changed = true;
    const rest = [...current];
    while (changed) {
      changed = false;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i]!.intersects(merged)) {
          merged = merged.cover(rest[i]!);
          absorbed.push(rest[i]!);
          rest.splice(i, 1);
          changed = true;
          break;
        }
      }
    }
    const others = absorbed.filter((x) => !x.equals(merged));
    if (others.length > 0 || !absorbed.some((x) => x.equals(merged))) {
      const target = windowNamespace(merged);
      const sources = others.map(windowNamespace);
      if (sources.length > 0) {
        this.backend.mergeNamespaces(CONTENTS, target, sources, (a, b) =>
          this.fn.type === 'aggregate' ? this.fn.aggregate.merge(a, b) : (a as unknown[]).concat(b as unknown[]),
        );
        for (const name of this.triggerStates.keys()) {
          this.backend.mergeNamespaces(`trigger:${name}`, target, sources, this.trigger.mergeState?.[name] ?? ((a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : b)));
        }
        for (const o of others) {
          this.enterWindow(o);
          this.trigger.clear(o, this.triggerContext);
          this.deleteCleanup(o);
        }
        this.enterWindow(merged);
        this.trigger.onMerge?.(merged, this.triggerContext);
      }
      this.setSessionList([...rest.map(windowNamespace), target]);
    }
    return merged;
  }

  private retireSession(w: Window): void {
    const ns = windowNamespace(w);
    this.setSessionList(this.sessionList().filter((x) => x !== ns));
  }

  private clearAll(w: Window): void {
    this.contents.clear();
    this.trigger.clear(w, this.triggerContext);
    if (this.sessions) this.retireSession(w);
  }

  private onTimer(t: Timer, eventTime: boolean): void {
    this.backend.currentKey = t.key;
    this.backend.currentNamespace = t.namespace;
    const w = windowOf(t.namespace);
    if (this.sessions && !this.sessionList().includes(t.namespace)) return; // merged away
    this.window = w;
    try {
      const r = eventTime ? this.trigger.onEventTime(t.timestamp, w, this.triggerContext) : this.trigger.onProcessingTime(t.timestamp, w, this.triggerContext);
      this.act(r, w);
    } catch (e) {
      this.ctx.failRecord(this.ctx.node, { window: w.toString(), key: t.key }, t.timestamp, e, `firing ${w.toString()} for key ${JSON.stringify(t.key)}`);
    }
    if (eventTime === this.isEventTime && t.timestamp === this.cleanupTime(w)) this.clearAll(w);
  }

  processWatermark(watermark: number): void {
    this.watermark = watermark;
    for (let t: Timer | undefined; (t = this.timers.pollEventTime(watermark)); ) this.onTimer(t, true);
  }

  onProcessingTime(now: number): void {
    for (let t: Timer | undefined; (t = this.timers.pollProcessingTime(now)); ) this.onTimer(t, false);
    const next = this.timers.nextProcessingTime();
    if (next !== undefined) this.ctx.requestProcessingTime(next);
  }

  snapshot(): OperatorSnapshot {
    return snapshotKeyed(this.backend, this.timers);
  }

  restore(snapshots: readonly OperatorSnapshot[]): void {
    const next = restoreKeyed(snapshots, this.ctx.keyGroupRange, this.backend, this.timers, (entries) => {
      // Trigger states are declared when a trigger first uses them: declare those the checkpoint has.
      for (const [, v] of entries) {
        for (const [name] of v.state) {
          if (name.startsWith('trigger:') && !this.triggerStates.has(name.slice(8))) {
            this.triggerContext.state(name.slice(8), { kind: 'value', ttlMs: undefined, version: 1 } as ValueStateDescriptor<unknown>);
          }
        }
      }
    });
    if (next !== undefined) this.ctx.requestProcessingTime(next);
  }

  describeState(): unknown {
    return this.backend.descriptors();
  }
}
