import type { AggregateFunction } from './aggregate.js';
import { agg } from './aggregate.js';
import type { DataStream } from './data-stream.js';
import { toMillis, type Duration } from './duration.js';
import type { StatefulStepOptions } from './environment.js';
import type { Key, KeySelector, ProcessWindowFunction, WindowResultFunction } from './functions.js';
import type { KeyedStream } from './keyed-stream.js';
import type { OutputTag } from './output-tag.js';
import type { WindowFunctionSpec } from './plan.js';
import type { Trigger, Window, WindowAssigner } from './windows.js';

/**
 * A keyed stream cut into windows of type `W`. Configure the trigger, allowed lateness and late-data side output,
 * then give a window function (`aggregate`, `reduce` or `process`), which adds one stateful step. Semantics are
 * Flink's: windows are `[start, end)`, fire when the watermark reaches `end - 1`, re-fire for late records within
 * the allowed lateness, and send records later than that to the late side output (when set) instead of dropping
 * them silently (they are counted either way).
 */
export class WindowedStream<K extends Key, T, W extends Window> {
  /** @internal */
  constructor(
    private readonly keyed: KeyedStream<K, T>,
    private readonly assigner: WindowAssigner<W>,
    private readonly trig: Trigger<W> | undefined = undefined,
    private readonly latenessMs = 0,
    private readonly lateTag: OutputTag<T> | undefined = undefined,
  ) {}

  /** Replaces the assigner's default trigger (event time, processing time, or never for global windows). */
  trigger(trigger: Trigger<W> | Trigger<Window>): WindowedStream<K, T, W> {
    return new WindowedStream(this.keyed, this.assigner, trigger as Trigger<W>, this.latenessMs, this.lateTag);
  }

  /** Keeps window state this long after the window's end; records arriving meanwhile re-fire it. Default 0. */
  allowedLateness(lateness: Duration): WindowedStream<K, T, W> {
    return new WindowedStream(this.keyed, this.assigner, this.trig, toMillis(lateness, 'allowedLateness'), this.lateTag);
  }

  /** Sends records too late for every window they belong to to this side output. */
  sideOutputLateData(tag: OutputTag<T>): WindowedStream<K, T, W> {
    return new WindowedStream(this.keyed, this.assigner, this.trig, this.latenessMs, tag);
  }

  private build<O>(fn: WindowFunctionSpec, opts: StatefulStepOptions): DataStream<O> {
    return this.keyed.input.then<O>(
      {
        kind: 'window',
        assigner: this.assigner as unknown as WindowAssigner<Window>,
        trigger: this.trig as Trigger<Window> | undefined,
        allowedLatenessMs: this.latenessMs,
        lateTag: this.lateTag?.id,
        fn,
      },
      opts,
      this.keyed.key as KeySelector<T, Key>,
    );
  }

  /**
   * Incremental aggregation: keeps one accumulator per key and window, emits `result(key, window, aggregate)` (or the
   * aggregate alone) when the window fires.
   */
  aggregate<A>(aggregate: AggregateFunction<T, any, A>, opts: StatefulStepOptions): DataStream<A>;
  aggregate<A, O>(aggregate: AggregateFunction<T, any, A>, result: WindowResultFunction<K, A, O, W>, opts: StatefulStepOptions): DataStream<O>;
  aggregate(aggregate: AggregateFunction<T, any, any>, a: any, b?: StatefulStepOptions): DataStream<any> {
    const [result, opts] = typeof a === 'function' ? [a, b!] : [undefined, a as StatefulStepOptions];
    return this.build({ type: 'aggregate', aggregate, ...(result ? { result } : {}) }, opts);
  }

  /** Incremental reduce: keeps one value per key and window. */
  reduce(fn: (a: T, b: T) => T, opts: StatefulStepOptions): DataStream<T>;
  reduce<O = T>(fn: (a: T, b: T) => T, result: WindowResultFunction<K, T, O, W>, opts: StatefulStepOptions): DataStream<O>;
  reduce(fn: (a: T, b: T) => T, a: any, b?: StatefulStepOptions): DataStream<any> {
    return typeof a === 'function' ? this.aggregate(agg.reduce(fn), a, b!) : this.aggregate(agg.reduce(fn), a as StatefulStepOptions);
  }

  /** Full-window function: buffers every record of the key's window and hands them over when it fires. */
  process<O>(fn: ProcessWindowFunction<K, T, O, W>, opts: StatefulStepOptions): DataStream<O> {
    return this.build({ type: 'process', process: fn }, opts);
  }
}
