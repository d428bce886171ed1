import { toMillis, type Duration } from './duration.js';
import { MAX_WATERMARK } from './watermarks.js';
import type { ValueState, ValueStateDescriptor } from './state.js';
import { valueState } from './state.js';

/**
 * A window of event or processing time, `[start, end)`: `start` inclusive, `end` exclusive, as in Flink. A record
 * with timestamp `t` belongs to it when `start <= t < end`; the window fires when the watermark reaches
 * `maxTimestamp = end - 1`.
 */
export class TimeWindow {
  readonly kind = 'time' as const;
  constructor(readonly start: number, readonly end: number) {}
  /** The largest timestamp inside the window: `end - 1`. */
  get maxTimestamp(): number {
    return this.end - 1;
  }
  /** True when the two windows overlap or touch (session merging). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }
  /** The smallest window covering both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }
  equals(other: TimeWindow): boolean {
    return this.start === other.start && this.end === other.end;
  }
  toString(): string {
    return `TimeWindow[${this.start}, ${this.end})`;
  }
}

/** The single window of `windows.global()`: it never ends, so it needs a trigger such as `triggers.count(n)`. */
export class GlobalWindow {
  readonly kind = 'global' as const;
  static readonly INSTANCE = new GlobalWindow();
  private constructor() {}
  get maxTimestamp(): number {
    return MAX_WATERMARK;
  }
  toString(): string {
    return 'GlobalWindow';
  }
}

/** Any window. */
export type Window = TimeWindow | GlobalWindow;

/** Start of the window of size `size` with `offset` containing `timestamp` (correct for negative timestamps too). */
export function windowStart(timestamp: number, offset: number, size: number): number {
  const remainder = (timestamp - offset) % size;
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
}

/** What a trigger decides for a window. `PURGE` clears the window's contents; the window itself stays until cleanup. */
export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE';

/** What a trigger may do while it decides. Scoped to one key and one window. */
export interface TriggerContext {
  readonly currentWatermark: number;
  readonly currentProcessingTime: number;
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** Per-key, per-window state of the trigger, e.g. a count; `name` must be unique within the trigger. */
  state<T>(name: string, descriptor: ValueStateDescriptor<T>): ValueState<T>;
}

/**
 * Decides when a window emits (Flink's `Trigger`). Called with the key's and window's context; timers registered
 * here come back through `onEventTime` / `onProcessingTime`. Must be deterministic. `clear` removes whatever the
 * trigger registered when the window is cleaned up.
 */
export interface Trigger<W extends Window = Window> {
  readonly description: string;
  onElement(value: unknown, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Present when the trigger supports merging windows; called for the merged window after a merge. */
  onMerge?(window: W, ctx: TriggerContext): void;
  /**
   * How each trigger state (by the name given to `ctx.state`) combines when windows merge; states not listed are
   * summed when numeric (a count), else the merged window keeps the newest value.
   */
  readonly mergeState?: Readonly<Record<string, (a: any, b: any) => unknown>>;
  clear(window: W, ctx: TriggerContext): void;
}

const countDescriptor = valueState<number>();

/** Built-in triggers. */
export const triggers = {
  /** Fires when the watermark passes the window's end (the default of event-time windows); re-fires for each late-but-allowed record. */
  eventTime(): Trigger<Window> {
    return {
      description: 'EventTimeTrigger',
      onElement(_v, _ts, w, ctx) {
        if (w.maxTimestamp <= ctx.currentWatermark) return 'FIRE';
        ctx.registerEventTimeTimer(w.maxTimestamp);
        return 'CONTINUE';
      },
      onEventTime: (time, w) => (time === w.maxTimestamp ? 'FIRE' : 'CONTINUE'),
      onProcessingTime: () => 'CONTINUE',
      onMerge(w, ctx) {
        if (w.maxTimestamp > ctx.currentWatermark) ctx.registerEventTimeTimer(w.maxTimestamp);
      },
      clear(w, ctx) {
        ctx.deleteEventTimeTimer(w.maxTimestamp);
      },
    };
  },
  /** Fires when processing time passes the window's end (the default of processing-time windows). */
  processingTime(): Trigger<Window> {
    return {
      description: 'ProcessingTimeTrigger',
      onElement(_v, _ts, w, ctx) {
        ctx.registerProcessingTimeTimer(w.maxTimestamp);
        return 'CONTINUE';
      },
      onEventTime: () => 'CONTINUE',
      onProcessingTime: (time, w) => (time === w.maxTimestamp ? 'FIRE' : 'CONTINUE'),
      onMerge(w, ctx) {
        ctx.registerProcessingTimeTimer(w.maxTimestamp);
      },
      clear(w, ctx) {
        ctx.deleteProcessingTimeTimer(w.maxTimestamp);
      },
    };
  },
  /** Fires each time the window holds `count` more records (Flink's `CountTrigger`); combine with `purging` to reset. */
  count(count: number): Trigger<Window> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`triggers.count needs a positive integer, got ${count}`);
    return {
      description: `CountTrigger(${count})`,
      onElement(_v, _ts, _w, ctx) {
        const s = ctx.state('count', countDescriptor);
        const n = (s.value() ?? 0) + 1;
        if (n >= count) {
          s.clear();
          return 'FIRE';
        }
        s.update(n);
        return 'CONTINUE';
      },
      onEventTime: () => 'CONTINUE',
      onProcessingTime: () => 'CONTINUE',
      onMerge() {
        // Flink sums the merged counts; the merged window's count state is summed by the window operator.
      },
      clear(_w, ctx) {
        ctx.state('count', countDescriptor).clear();
      },
    };
  },
  /**
   * Early (speculative) firings every `interval` of event time, plus the final firing at the window's end (Flink's
   * `ContinuousEventTimeTrigger`).
   */
  continuousEventTime(interval: Duration): Trigger<Window> {
    const every = toMillis(interval, 'continuousEventTime interval');
    if (every <= 0) throw new RangeError('continuousEventTime interval must be positive');
    const next = valueState<number>();
    // The next early firing, never after the window's end (Flink caps it at maxTimestamp).
    const schedule = (time: number, w: Window, ctx: TriggerContext): void => {
      const t = Math.min(time, w.maxTimestamp);
      ctx.state('next-fire', next).update(t);
      ctx.registerEventTimeTimer(t);
    };
    return {
      description: `ContinuousEventTimeTrigger(${every}ms)`,
      onElement(_v, ts, w, ctx) {
        if (w.maxTimestamp <= ctx.currentWatermark) return 'FIRE';
        ctx.registerEventTimeTimer(w.maxTimestamp);
        if (ctx.state('next-fire', next).value() === undefined) schedule(ts - (((ts % every) + every) % every) + every, w, ctx);
        return 'CONTINUE';
      },
      onEventTime(time, w, ctx) {
        if (time === w.maxTimestamp) return 'FIRE';
        const s = ctx.state('next-fire', next);
        if (s.value() === time) {
          s.clear();
          schedule(time + every, w, ctx);
          return 'FIRE';
        }
        return 'CONTINUE';
      },
      onProcessingTime: () => 'CONTINUE',
      mergeState: { 'next-fire': (a: number, b: number) => Math.min(a, b) },
      onMerge(w, ctx) {
        if (w.maxTimestamp > ctx.currentWatermark) ctx.registerEventTimeTimer(w.maxTimestamp);
        const t = ctx.state('next-fire', next).value();
        if (t !== undefined) ctx.registerEventTimeTimer(t);
      },
      clear(w, ctx) {
        const s = ctx.state('next-fire', next);
        const t = s.value();
        if (t !== undefined) ctx.deleteEventTimeTimer(t);
        s.clear();
        ctx.deleteEventTimeTimer(w.maxTimestamp);
      },
    };
  },
  /** Periodic firings every `interval` of processing time (Flink's `ContinuousProcessingTimeTrigger`). */
  continuousProcessingTime(interval: Duration): Trigger<Window> {
    const every = toMillis(interval, 'continuousProcessingTime interval');
    if (every <= 0) throw new RangeError('continuousProcessingTime interval must be positive');
    const next = valueState<number>();
    return {
      description: `ContinuousProcessingTimeTrigger(${every}ms)`,
      onElement(_v, _ts, _w, ctx) {
        const s = ctx.state('next-fire', next);
        if (s.value() === undefined) {
          const now = ctx.currentProcessingTime;
          const t = now - (((now % every) + every) % every) + every;
          s.update(t);
          ctx.registerProcessingTimeTimer(t);
        }
        return 'CONTINUE';
      },
      onEventTime: () => 'CONTINUE',
      onProcessingTime(time, _w, ctx) {
        const s = ctx.state('next-fire', next);
        if (s.value() === time) {
          s.update(time + every);
          ctx.registerProcessingTimeTimer(time + every);
          return 'FIRE';
        }
        return 'CONTINUE';
      },
      clear(_w, ctx) {
        const s = ctx.state('next-fire', next);
        const t = s.value();
        if (t !== undefined) ctx.deleteProcessingTimeTimer(t);
        s.clear();
      },
    };
  },
  /** Turns every `FIRE` of `inner` into `FIRE_AND_PURGE` (Flink's `PurgingTrigger`). */
  purging<W extends Window>(inner: Trigger<W>): Trigger<W> {
    const purge = (r: TriggerResult): TriggerResult => (r === 'FIRE' ? 'FIRE_AND_PURGE' : r);
    return {
      description: `PurgingTrigger(${inner.description})`,
      onElement: (v, ts, w, ctx) => purge(inner.onElement(v, ts, w, ctx)),
      onEventTime: (t, w, ctx) => purge(inner.onEventTime(t, w, ctx)),
      onProcessingTime: (t, w, ctx) => purge(inner.onProcessingTime(t, w, ctx)),
      ...(inner.onMerge ? { onMerge: (w: W, ctx: TriggerContext) => inner.onMerge!(w, ctx) } : {}),
      ...(inner.mergeState ? { mergeState: inner.mergeState } : {}),
      clear: (w, ctx) => inner.clear(w, ctx),
    };
  },
  /** Never fires (the default of the global window). */
  never(): Trigger<Window> {
    return {
      description: 'NeverTrigger',
      onElement: () => 'CONTINUE',
      onEventTime: () => 'CONTINUE',
      onProcessingTime: () => 'CONTINUE',
      onMerge() {},
      clear() {},
    };
  },
};

/** Which clock a window assigner follows. */
export type TimeCharacteristic = 'event' | 'processing';

/** Options of time window assigners. */
export interface WindowOptions {
  /** Shifts window starts, e.g. `'-8h'`-style alignment to a time zone: windows start at `offset + k * size`. */
  readonly offset?: Duration | number;
  /** `'event'` (default) or `'processing'` time. */
  readonly time?: TimeCharacteristic;
}

/**
 * Assigns each record to zero or more windows (Flink's `WindowAssigner`). Plain data plus functions, so the planner
 * can recognise the built-in kinds and pick a faster state layout for them.
 */
export interface WindowAssigner<W extends Window> {
  readonly kind: 'tumbling' | 'sliding' | 'session' | 'global';
  readonly time: TimeCharacteristic;
  readonly sizeMs: number;
  readonly slideMs: number;
  readonly offsetMs: number;
  readonly gapMs: number;
  /** The windows containing `timestamp` (event or processing time, per `time`). */
  assignWindows(timestamp: number): W[];
  /** True for session windows, whose windows merge when they overlap. */
  readonly merging: boolean;
  defaultTrigger(): Trigger<Window>;
  readonly description: string;
}

function offsetOf(opts: WindowOptions | undefined): number {
  const o = opts?.offset;
  if (o === undefined) return 0;
  if (typeof o === 'number') return o;
  return String(o).startsWith('-') ? -toMillis(String(o).slice(1) as Duration, 'window offset') : toMillis(o, 'window offset');
}

/** Window assigners. */
export const windows = {
  /** Fixed-size, non-overlapping windows `[k*size + offset, (k+1)*size + offset)`. */
  tumbling(size: Duration, opts?: WindowOptions): WindowAssigner<TimeWindow> {
    const sizeMs = toMillis(size, 'tumbling window size');
    if (sizeMs <= 0) throw new RangeError('tumbling window size must be positive');
    const offsetMs = offsetOf(opts) % sizeMs;
    const time = opts?.time ?? 'event';
    return {
      kind: 'tumbling', time, sizeMs, slideMs: sizeMs, offsetMs, gapMs: 0, merging: false,
      assignWindows(ts) {
        const start = windowStart(ts, offsetMs, sizeMs);
        return [new TimeWindow(start, start + sizeMs)];
      },
      defaultTrigger: () => (time === 'event' ? triggers.eventTime() : triggers.processingTime()),
      description: `tumbling(${sizeMs}ms${offsetMs ? `, offset ${offsetMs}ms` : ''}, ${time} time)`,
    };
  },
  /** Windows of `size` starting every `slide`; a record belongs to `size / slide` of them. */
  sliding(size: Duration, slide: Duration, opts?: WindowOptions): WindowAssigner<TimeWindow> {
    const sizeMs = toMillis(size, 'sliding window size');
    const slideMs = toMillis(slide, 'sliding window slide');
    if (sizeMs <= 0 || slideMs <= 0) throw new RangeError('sliding window size and slide must be positive');
    const offsetMs = offsetOf(opts) % slideMs;
    const time = opts?.time ?? 'event';
    return {
      kind: 'sliding', time, sizeMs, slideMs, offsetMs, gapMs: 0, merging: false,
      assignWindows(ts) {
        const out: TimeWindow[] = [];
        const last = windowStart(ts, offsetMs, slideMs);
        for (let start = last; start > ts - sizeMs; start -= slideMs) out.push(new TimeWindow(start, start + sizeMs));
        return out;
      },
      defaultTrigger: () => (time === 'event' ? triggers.eventTime() : triggers.processingTime()),
      description: `sliding(${sizeMs}ms every ${slideMs}ms${offsetMs ? `, offset ${offsetMs}ms` : ''}, ${time} time)`,
    };
  },
  /** Session windows: a record opens `[t, t + gap)`; overlapping windows of a key merge. */
  session(gap: Duration, opts?: Omit<WindowOptions, 'offset'>): WindowAssigner<TimeWindow> {
    const gapMs = toMillis(gap, 'session gap');
    if (gapMs <= 0) throw new RangeError('session gap must be positive');
    const time = opts?.time ?? 'event';
    return {
      kind: 'session', time, sizeMs: 0, slideMs: 0, offsetMs: 0, gapMs, merging: true,
      assignWindows: (ts) => [new TimeWindow(ts, ts + gapMs)],
      defaultTrigger: () => (time === 'event' ? triggers.eventTime() : triggers.processingTime()),
      description: `session(gap ${gapMs}ms, ${time} time)`,
    };
  },
  /** One window per key for all time; give it a trigger, e.g. `.trigger(triggers.purging(triggers.count(100)))`. */
  global(): WindowAssigner<GlobalWindow> {
    return {
      kind: 'global', time: 'event', sizeMs: 0, slideMs: 0, offsetMs: 0, gapMs: 0, merging: false,
      assignWindows: () => [GlobalWindow.INSTANCE],
      defaultTrigger: () => triggers.never(),
      description: 'global',
    };
  },
};
