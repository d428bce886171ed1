import {
  defineJob, sinks,
  type DataStream, type Key, type KeyedStream, type KeySelector, type Sink, type Source,
} from '@millrace/core';
import { JobRuntime, Router, type ChannelMessage, type Subtask, type SubtaskState } from '@millrace/runtime';
import { ManualClock } from './manual-clock.js';

/** One entry of a harness's output, in the order the operator produced them. */
export type HarnessOutput<O> =
  | { readonly kind: 'record'; readonly value: O; readonly timestamp: number | undefined }
  | { readonly kind: 'watermark'; readonly watermark: number }
  | { readonly kind: 'side'; readonly tag: string; readonly value: unknown; readonly timestamp: number | undefined };

/** A harness's snapshot, to restore into a new harness. */
export interface HarnessSnapshot {
  readonly states: ReadonlyMap<string, readonly SubtaskState[]>;
}

const INPUT = 'harness-input';
const OUTPUT = 'harness-output';

/**
 * Tests one operator on its own (Flink's `KeyedOneInputStreamOperatorTestHarness`): records with timestamps,
 * watermarks and processing time in; one interleaved list of records, watermarks and side outputs out; snapshot,
 * then restore into a new harness, and timers still fire.
 *
 * ```ts
 * const h = OperatorHarness.keyed((t: Txn) => t.card, (s) => s.process<Alert>({ uid: 'p' }).withState(…).handle(…));
 * h.processElement(txn, 1_000).processWatermark(61_000);
 * assert.deepEqual(h.output(), [{ kind: 'record', … }, { kind: 'watermark', watermark: 61_000 }]);
 * ```
 */
export class OperatorHarness<T, O> {
  readonly clock: ManualClock;
  private readonly runtime: JobRuntime;
  private readonly subtask: Subtask;
  private readonly outputs: HarnessOutput<O>[] = [];

  private constructor(private readonly build: (input: DataStream<T>) => DataStream<O>, startTime: number) {
    const job = defineJob('operator-harness', (env) => {
      const input = env.fromSource<T>({ description: 'harness', bounded: false, createReader: () => ({ next: () => null, snapshot: () => null }) }, { uid: INPUT });
      build(input).rebalance().sinkTo(sinks.collect<O>(), { uid: OUTPUT });
    });
    const plan = job.plan();
    this.clock = new ManualClock(startTime);
    const noSource: Source<unknown> = { description: 'harness', bounded: false, createReader: () => ({ next: () => new Promise(() => {}), snapshot: () => null }) };
    const noSink: Sink<unknown> = { description: 'harness', createWriter: () => ({ write() {} }) };
    this.runtime = new JobRuntime(plan, this.clock, undefined, { sources: new Map([[INPUT, noSource]]), sinks: new Map([[OUTPUT, noSink]]) });
    // The operator under test: the chain right after the input (or the input's own chain, when fused into it).
    const first = plan.nodes.find((n) => n.inputs.some((e) => plan.nodes.find((m) => m.id === e.from)?.uid === INPUT))!;
    this.subtask = this.runtime.subtasks.find((s) => s.chain.nodes.includes(first))!;
    const recorder = {
      receive: (_c: number, m: ChannelMessage) => {
        if (m.kind === 'batch') for (let i = 0; i < m.batch.length; i++) this.outputs.push({ kind: 'record', value: m.batch.values[i] as O, timestamp: ts(m.batch.timestamps[i]!) });
        else if (m.kind === 'watermark') this.outputs.push({ kind: 'watermark', watermark: m.watermark });
      },
    };
    const main = this.subtask.main!;
    this.subtask.main = new Router([...main.targets, { partitioning: 'forward', keySelector: undefined, receivers: [recorder], channel: 0 }], 0, plan.config.maxParallelism);
    this.subtask.unroutedSide = (tag, b) => {
      for (let i = 0; i < b.length; i++) this.outputs.push({ kind: 'side', tag, value: b.values[i], timestamp: ts(b.timestamps[i]!) });
    };
  }

  /** A harness for the steps `build` adds to a plain stream (stateless or non-keyed process functions). */
  static of<T, O>(build: (input: DataStream<T>) => DataStream<O>, opts: { startTime?: number } = {}): OperatorHarness<T, O> {
    return new OperatorHarness(build, opts.startTime ?? 0);
  }

  /** A harness for a keyed operator: `build` receives the stream keyed by `key`. */
  static keyed<T, K extends Key, O>(key: KeySelector<T, K>, build: (input: KeyedStream<K, T>) => DataStream<O>, opts: { startTime?: number } = {}): OperatorHarness<T, O> {
    return new OperatorHarness<T, O>((s) => build(s.keyBy(key)), opts.startTime ?? 0);
  }

  /** A new harness for the same operator, restored from `snapshot` (timers and state come back). */
  static async restore<T, O>(from: OperatorHarness<T, O>, snapshot: HarnessSnapshot, opts: { startTime?: number } = {}): Promise<OperatorHarness<T, O>> {
    const h = new OperatorHarness(from.build, opts.startTime ?? from.clock.now());
    await h.runtime.restore(snapshot.states);
    return h;
  }

  /** Runs a step; an exception it throws fails the operator (as in a job), so later calls rethrow it. */
  private run(fn: () => void): this {
    if (this.runtime.failed !== undefined) throw this.runtime.failed;
    try {
      fn();
    } catch (e) {
      this.runtime.fail(e);
      throw e;
    }
    if (this.runtime.failed !== undefined) throw this.runtime.failed;
    return this;
  }

  private deliver(m: ChannelMessage): void {
    if (this.subtask.headNode.uid === INPUT) {
      // The operator is fused into the input's chain: enter the chain directly.
      if (m.kind === 'batch') this.subtask.onBatch(m.batch.values, m.batch.timestamps, m.batch.length);
      else if (m.kind === 'watermark') this.subtask.onWatermark(m.watermark);
    } else {
      this.subtask.receive(0, m);
    }
  }

  /** One record with its timestamp (omit for none). */
  processElement(value: T, timestamp?: number): this {
    return this.run(() => {
      this.deliver({ kind: 'batch', batch: { values: [value], timestamps: [timestamp ?? Number.NaN], length: 1 } as never });
    });
  }

  /** A watermark from the (single) input. */
  processWatermark(watermark: number): this {
    return this.run(() => this.deliver({ kind: 'watermark', watermark }));
  }

  /** Sets processing time; processing-time timers up to it fire. */
  setProcessingTime(timestamp: number): this {
    return this.run(() => this.clock.set(timestamp));
  }

  /** Everything produced so far, interleaved. */
  output(): HarnessOutput<O>[] {
    return this.outputs.slice();
  }

  /** Only the records produced so far. */
  records(): O[] {
    return this.outputs.flatMap((o) => (o.kind === 'record' ? [o.value] : []));
  }

  /** Returns the output so far and forgets it. */
  drain(): HarnessOutput<O>[] {
    return this.outputs.splice(0);
  }

  /** Snapshots the operator's state and timers. */
  async snapshot(): Promise<HarnessSnapshot> {
    const info = await this.runtime.triggerCheckpoint();
    // The barrier passed through to the output: not part of the operator's output.
    return { states: info.states };
  }
}

function ts(t: number): number | undefined {
  return t === t ? t : undefined;
}
