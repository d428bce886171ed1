import type { StreamEnvironment, StatefulStepOptions, StepOptions } from './environment.js';
import { JobBuildError } from './errors.js';
import type { Key, KeySelector, ProcessFunction } from './functions.js';
import { KeyedStream } from './keyed-stream.js';
import type { OutputTag } from './output-tag.js';
import type { NodeSpec, PlanEdge, Partitioning } from './plan.js';
import type { Sink } from './sink.js';
import { sinks } from './sinks.js';
import type { WatermarkStrategy } from './watermarks.js';

/** @internal One producer of a stream: a node's main output or one of its side outputs. */
export interface StreamInput {
  readonly node: number;
  readonly sideOutput?: string;
}

/**
 * A stream of records of type `T`. Immutable: every method returns a new handle and adds a step to the job's plan.
 * Stateless steps (`map`, `filter`, `flatMap`, `process`) are fused by the planner into one generated loop with their
 * neighbours and cost no shuffle.
 */
export class DataStream<T> {
  /** @internal */
  constructor(
    /** @internal */ readonly env: StreamEnvironment,
    /** @internal */ readonly producers: readonly StreamInput[],
    /** @internal Set for `env.deadLetters()`: resolved by the planner to every step's dead-letter output. */
    readonly sideOutputOfAll?: string,
    /** @internal How the next step receives this stream (`rebalance()` changes it). */
    readonly partitioning: Partitioning = 'forward',
  ) {}

  /** @internal */
  edges(partitioning: Partitioning, keySelector?: KeySelector<T, Key>): PlanEdge[] {
    if (this.sideOutputOfAll !== undefined) {
      // Resolved when the plan is finished: the planner adds an edge from every node with this side output.
      return [{ from: 0, partitioning, sideOutput: this.sideOutputOfAll, ...(keySelector ? { keySelector } : {}) }];
    }
    return this.producers.map((p) => ({
      from: p.node,
      partitioning,
      ...(keySelector ? { keySelector } : {}),
      ...(p.sideOutput !== undefined ? { sideOutput: p.sideOutput } : {}),
    }));
  }

  /** @internal */
  then<O>(spec: NodeSpec, opts: StepOptions | undefined, keySelector?: KeySelector<T, Key>): DataStream<O> {
    const edges = keySelector ? this.edges('hash', keySelector) : this.edges(this.partitioning);
    const node = this.env.addNode(spec, edges, opts, spec.kind);
    return new DataStream<O>(this.env, [{ node: node.id }]);
  }

  /** Stateless, no shuffle: one output per input. */
  map<O>(fn: (value: T) => O, opts?: StepOptions): DataStream<O> {
    return this.then<O>({ kind: 'map', fn }, opts);
  }

  /** Stateless, no shuffle: keeps the records for which `fn` is true. A type guard narrows the element type. */
  filter<S extends T>(fn: (value: T) => value is S, opts?: StepOptions): DataStream<S>;
  filter(fn: (value: T) => boolean, opts?: StepOptions): DataStream<T>;
  filter(fn: (value: T) => boolean, opts?: StepOptions): DataStream<T> {
    return this.then<T>({ kind: 'filter', fn }, opts);
  }

  /** Stateless, no shuffle: zero or more outputs per input (any iterable, e.g. an array or a generator). */
  flatMap<O>(fn: (value: T) => Iterable<O>, opts?: StepOptions): DataStream<O> {
    return this.then<O>({ kind: 'flatMap', fn }, opts);
  }

  /** Stateless, no shuffle: a function that may emit any number of records and side outputs per input. */
  process<O>(fn: ProcessFunction<T, O> | ProcessFunction<T, O>['onElement'], opts?: StepOptions): DataStream<O> {
    const f = typeof fn === 'function' ? { onElement: fn } : fn;
    return this.then<O>({ kind: 'process', fn: f }, opts);
  }

  /** Merges streams of the same type; no step is added (union is a property of the consumer's input edges). */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const o of others) {
      if (o.env !== this.env) throw new JobBuildError('union: all streams must belong to the same job');
      if (o.sideOutputOfAll !== undefined || this.sideOutputOfAll !== undefined) {
        throw new JobBuildError('union: env.deadLetters() cannot be unioned; give it its own sink');
      }
    }
    return new DataStream<T>(this.env, [...this.producers, ...others.flatMap((o) => o.producers)], undefined, this.partitioning);
  }

  /**
   * Partitions by key: shuffles records so that all records of a key meet on the same subtask, which owns that key's
   * state. No step is added until a keyed operation follows.
   */
  keyBy<K extends Key>(key: KeySelector<T, K>): KeyedStream<K, T> {
    return new KeyedStream<K, T>(this, key);
  }

  /** Spreads records round-robin over the next step's subtasks (a shuffle). */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.env, this.producers, this.sideOutputOfAll, 'rebalance');
  }

  /** Stateless: assigns event timestamps and watermarks here instead of at the source (prefer the source: per split). */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>, opts?: StepOptions): DataStream<T> {
    return this.then<T>({ kind: 'timestamps', strategy }, opts);
  }

  /** The records a step sent to the side output `tag` (late records, user side outputs, dead letters). */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    if (this.producers.length !== 1) throw new JobBuildError(`getSideOutput(${tag.id}) needs the stream of one step, not a union`);
    return new DataStream<X>(this.env, [{ node: this.producers[0]!.node, sideOutput: tag.id }]);
  }

  /** Writes to a sink. Stateful (sinks take part in checkpoints): needs a uid. */
  sinkTo(sink: Sink<T>, opts: StatefulStepOptions): void {
    this.then<never>({ kind: 'sink', sink }, opts);
  }

  /** Prints each record as JSON to standard output, after `prefix> ` when given (a sink, like Flink's `print`). */
  print(prefix = '', opts?: Partial<StatefulStepOptions>): void {
    this.sinkTo(sinks.print<T>(prefix), { uid: opts?.uid ?? `print-${this.env.nodes.length + 1}`, ...opts });
  }
}
