import {
  explain, JobBuildError, sinks,
  type CollectSink, type JobDefinition, type JobOptions, type LogicalPlan, type Sink, type Source,
} from '@millrace/core';
import { JobRuntime, type CheckpointInfo, type OperatorMetricsRow, type SourceDriver, type SubtaskState } from '@millrace/runtime';
import { ManualClock } from './manual-clock.js';

/** A checkpoint taken by a test driver, to start another driver from. */
export interface DriverSnapshot {
  readonly checkpointId: number;
  readonly states: ReadonlyMap<string, readonly SubtaskState[]>;
}

/** Options of {@link JobTestDriver.of}. */
export interface JobTestDriverOptions {
  /** Replaces job options (e.g. `maxParallelism`, `errorPolicy`). Parallelism is always 1 in the driver. */
  readonly overrides?: JobOptions;
  /** Processing time at start (epoch ms). Default 0. */
  readonly startTime?: number;
  /** Sinks to keep as they are (by uid); every other sink is replaced by an in-memory one. */
  readonly keepSinks?: readonly string[];
}

/** Feeds one source of the job under test. */
export class TestInput<T> {
  /** @internal */
  constructor(private readonly driver: JobTestDriver, private readonly sources: SourceDriver[], readonly uid: string) {}

  /** Pushes records; timestamps come from the source's watermark strategy. Watermarks follow as the strategy says. */
  push(...values: T[]): this {
    this.driver.run(() => { for (const s of this.sources) s.emit({ values }); });
    return this;
  }

  /** Pushes one record with an explicit timestamp (as if the source attached it, e.g. a Kafka record timestamp). */
  pushAt(timestamp: number, ...values: T[]): this {
    this.driver.run(() => { for (const s of this.sources) s.emit({ values, timestamps: values.map(() => timestamp) }); });
    return this;
  }

  /** Moves this source's watermark to at least `watermark`; event-time windows and timers up to it fire. */
  advanceWatermark(watermark: number): this {
    this.driver.run(() => { for (const s of this.sources) s.forceWatermark(watermark); });
    return this;
  }

  /** Ends this input: its watermark jumps to the maximum and end of input flows downstream. */
  end(): this {
    this.driver.run(() => { for (const s of this.sources) if (!s.subtask.finished) s.end(); });
    return this;
  }
}

/** What a sink of the job under test received. */
export class TestOutput<T> {
  /** @internal */
  constructor(private readonly sink: CollectSink<T>, readonly uid: string) {}
  /** Records received so far, in order. */
  values(): T[] {
    return this.sink.values();
  }
  /** Records with their timestamps (`NaN` when a record has none). */
  records(): Array<{ value: T; timestamp: number }> {
    return this.sink.records();
  }
  /** Returns the records received so far and forgets them. */
  drain(): T[] {
    const v = this.sink.values();
    this.sink.clear();
    return v;
  }
}

/**
 * Runs a whole job in this thread, synchronously, on a manual clock: push records and watermarks into its sources by
 * uid, read what its sinks received by uid. Every source is replaced by a push-driven input and every sink by an
 * in-memory one. Errors of user functions throw from the call that caused them.
 *
 * ```ts
 * await using driver = JobTestDriver.of(fraud);
 * driver.input('transactions').push(t1, t2).advanceWatermark(61_000);
 * assert.deepEqual(driver.output('alerts-out').values(), [...]);
 * ```
 */
export class JobTestDriver implements AsyncDisposable {
  readonly clock: ManualClock;
  readonly plan: LogicalPlan;
  private readonly runtime: JobRuntime;
  private readonly outputs = new Map<string, CollectSink<unknown>>();
  private readonly sourceUids: string[];

  private constructor(job: JobDefinition, opts: JobTestDriverOptions) {
    this.plan = job.plan({ ...opts.overrides, parallelism: 1, checkpointInterval: undefined });
    this.clock = new ManualClock(opts.startTime ?? 0);
    const sources = new Map<string, Source<unknown>>();
    const sinkMap = new Map<string, Sink<unknown>>();
    this.sourceUids = [];
    for (const n of this.plan.nodes) {
      if (n.spec.kind === 'source') {
        this.sourceUids.push(n.uid);
        sources.set(n.uid, { description: `test input ${n.uid}`, bounded: false, createReader: () => ({ next: () => new Promise(() => {}), snapshot: () => null, restore: () => {} }) });
      }
      if (n.spec.kind === 'sink' && !opts.keepSinks?.includes(n.uid)) {
        const c = sinks.collect<unknown>();
        this.outputs.set(n.uid, c);
        sinkMap.set(n.uid, c);
      }
    }
    this.runtime = new JobRuntime(this.plan, this.clock, undefined, { sources, sinks: sinkMap });
  }

  /** A driver for `job`. */
  static of(job: JobDefinition, opts: JobTestDriverOptions = {}): JobTestDriver {
    return new JobTestDriver(job, opts);
  }

  /** A driver for `job` starting from a snapshot taken by another driver's `checkpoint()` (same uids). */
  static async restore(job: JobDefinition, snapshot: DriverSnapshot, opts: JobTestDriverOptions = {}): Promise<JobTestDriver> {
    const d = new JobTestDriver(job, opts);
    await d.runtime.restore(snapshot.states);
    d.throwIfFailed();
    return d;
  }

  /**
   * @internal Runs a step and rethrows the job's failure, if it failed. An exception thrown by the step fails the job
   * (as it does in `runJob`), so later calls rethrow it instead of running on with half-delivered batches.
   */
  run(fn: () => void): void {
    this.throwIfFailed();
    try {
      fn();
    } catch (e) {
      this.runtime.fail(e);
      throw e;
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.runtime.failed !== undefined) throw this.runtime.failed;
  }

  /** The input of the source with this uid. */
  input<T = any>(uid: string): TestInput<T> {
    const drivers = this.runtime.sources.filter((s) => s.subtask.headNode.uid === uid);
    if (drivers.length === 0) {
      throw new JobBuildError(`job '${this.plan.jobName}' has no source with uid '${uid}'; its sources are: ${this.sourceUids.map((u) => `'${u}'`).join(', ')}`);
    }
    return new TestInput<T>(this, drivers, uid);
  }

  /** What the sink with this uid received. */
  output<T = any>(uid: string): TestOutput<T> {
    const c = this.outputs.get(uid);
    if (!c) {
      throw new JobBuildError(`job '${this.plan.jobName}' has no (replaced) sink with uid '${uid}'; its sinks are: ${[...this.outputs.keys()].map((u) => `'${u}'`).join(', ')}`);
    }
    return new TestOutput<T>(c as CollectSink<T>, uid);
  }

  /** Moves processing time forward: processing-time timers and windows fire, idle sources are marked idle. */
  advanceProcessingTime(ms: number): this {
    this.run(() => {
      this.clock.advance(ms);
      for (const s of this.runtime.sources) s.checkIdleness(this.clock.now());
    });
    return this;
  }

  /** Moves every source's watermark to at least `watermark`. */
  advanceWatermark(watermark: number): this {
    this.run(() => { for (const s of this.runtime.sources) s.forceWatermark(watermark); });
    return this;
  }

  /** Ends every input (bounded end of the job): all windows fire. */
  endInput(): this {
    this.run(() => { for (const s of this.runtime.sources) if (!s.subtask.finished) s.end(); });
    return this;
  }

  /** Takes a checkpoint (barriers through the whole job); start another driver from it with `JobTestDriver.restore`. */
  async checkpoint(): Promise<DriverSnapshot> {
    const info: CheckpointInfo = await this.runtime.triggerCheckpoint();
    this.throwIfFailed();
    return { checkpointId: info.checkpointId, states: info.states };
  }

  /** Per-operator metrics (late records, dead letters, watermarks). */
  metrics(): OperatorMetricsRow[] {
    return this.runtime.metrics();
  }

  /** The plan as `explain()` prints it. */
  explain(): string {
    return explain(this.plan);
  }

  /** The current watermark at the step with this uid. */
  watermarkOf(uid: string): number {
    const s = this.runtime.subtasks.find((x) => x.chain.nodes.some((n) => n.uid === uid));
    if (!s) throw new JobBuildError(`job '${this.plan.jobName}' has no step with uid '${uid}'`);
    return s.metrics.watermark;
  }

  async close(): Promise<void> {
    await this.runtime.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

