import type { AggregateFunction } from './aggregate.js';
import { agg } from './aggregate.js';
import type { DataStream } from './data-stream.js';
import type { StatefulStepOptions } from './environment.js';
import type { Key, KeyedProcessFunction, KeySelector } from './functions.js';
import type { StateDescriptor } from './state.js';
import { WindowedStream } from './windowed-stream.js';
import type { Window, WindowAssigner } from './windows.js';

/**
 * A stream partitioned by key `K` (from `keyBy`). Every operation on it is stateful per key and shuffles its input
 * by key group; its state is scoped to the current key.
 */
export class KeyedStream<K extends Key, T> {
  /** @internal */
  constructor(
    /** @internal */ readonly input: DataStream<T>,
    /** @internal */ readonly key: KeySelector<T, K>,
  ) {}

  /**
   * Windows the stream per key. Event-time windows need timestamps (a `watermarks` strategy on the source or
   * `assignTimestampsAndWatermarks`); the build fails otherwise.
   */
  window<W extends Window>(assigner: WindowAssigner<W>): WindowedStream<K, T, W> {
    return new WindowedStream<K, T, W>(this, assigner as WindowAssigner<Window> as unknown as WindowAssigner<W>);
  }

  /** Rolling aggregate, stateful: emits the key's updated aggregate for every record (no windows). */
  aggregate<A>(aggregate: AggregateFunction<T, any, A>, opts: StatefulStepOptions): DataStream<A>;
  aggregate<A, O = A>(aggregate: AggregateFunction<T, any, A>, result: ((key: K, result: A) => O) | undefined, opts: StatefulStepOptions): DataStream<O>;
  aggregate(aggregate: AggregateFunction<T, any, any>, a: any, b?: StatefulStepOptions): DataStream<any> {
    const [result, opts] = typeof a === 'function' || a === undefined ? [a, b!] : [undefined, a as StatefulStepOptions];
    return this.input.then({ kind: 'rolling', aggregate, ...(result ? { result } : {}) }, opts, this.key);
  }

  /** Rolling reduce, stateful: emits the key's reduced value after every record. */
  reduce(fn: (a: T, b: T) => T, opts: StatefulStepOptions): DataStream<T> {
    return this.aggregate(agg.reduce(fn), opts);
  }

  /**
   * A keyed process function with state and timers, in three typed steps: the output type, then the state
   * declarations, then the handlers (TypeScript cannot infer some type arguments and take others explicitly).
   *
   * ```ts
   * keyed.process<Alert>({ uid: 'alerts' }).withState({ last: valueState<Txn>() }).handle({ onElement(t, ctx) { … } })
   * ```
   */
  process<O>(opts: StatefulStepOptions): KeyedProcessBuilder<K, T, O, {}> {
    return new KeyedProcessBuilder<K, T, O, {}>(this, opts, {});
  }
}

/** Second step of `KeyedStream.process`: declare state, then `handle`. */
export class KeyedProcessBuilder<K extends Key, T, O, S extends Record<string, StateDescriptor>> {
  /** @internal */
  constructor(
    private readonly keyed: KeyedStream<K, T>,
    private readonly opts: StatefulStepOptions,
    private readonly states: S,
  ) {}

  /** Declares keyed state; each entry becomes `ctx.state.<name>` in the handlers. */
  withState<S2 extends Record<string, StateDescriptor>>(states: S2): KeyedProcessBuilder<K, T, O, S & S2> {
    return new KeyedProcessBuilder<K, T, O, S & S2>(this.keyed, this.opts, { ...this.states, ...states });
  }

  /** Sets the handlers and adds the step. */
  handle(fn: KeyedProcessFunction<K, T, O, S>): DataStream<O> {
    return this.keyed.input.then<O>({ kind: 'keyed-process', fn, states: this.states }, this.opts, this.keyed.key as KeySelector<T, Key>);
  }
}
