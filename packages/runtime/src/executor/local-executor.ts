import { CheckpointError, type Clock, type FileSystem, type JobDefinition, type JobOptions, type LogicalPlan } from '@millrace/core';
import { CheckpointStorage } from '../checkpoint/checkpoint-storage.js';
import { LocalFileSystem } from '../local-filesystem.js';
import { SystemClock } from '../system-clock.js';
import { JobRuntime, type CheckpointInfo, type ConnectorOverrides, type OperatorMetricsRow } from './job-runtime.js';
import { physicalPlan } from '@millrace/core';
import { runParallel, workersFor } from '../parallel/parallel-executor.js';
import { CheckpointSkipped } from '../checkpoint/checkpoint-failures.js';
import type { LoadedCheckpoint } from '../checkpoint/checkpoint-storage.js';
import type { RestartStrategy } from '../parallel/restart-strategy.js';

/** Options of {@link runJob}. */
export interface RunOptions {
  /** Replaces options of the job definition (parallelism, checkpoint interval, …). */
  readonly overrides?: JobOptions;
  /** Where checkpoints go: a local directory, or a FileSystem and a directory on it. */
  readonly checkpoints?: string | { readonly fs: FileSystem; readonly dir: string; readonly retain?: number };
  /** Restore from the newest completed checkpoint in `checkpoints` (`'latest'`), or from a checkpoint/savepoint path. */
  readonly restore?: 'latest' | string;
  /**
   * Restore even when the checkpoint holds state for uids the job no longer has (a stateful step removed on purpose),
   * dropping that state with a log line; as Flink's `--allowNonRestoredState`. Default false: such a restore fails,
   * naming the uids.
   */
  readonly allowNonRestoredState?: boolean;
  /** The clock; tests pass a manual one. */
  readonly clock?: Clock;
  /** Ends the job (like `cancel()`) when aborted. */
  readonly signal?: AbortSignal;
  /** In-memory replacements of sources and sinks by uid. */
  readonly connectors?: ConnectorOverrides;
  /** Receives what the job does on its own (restored from a checkpoint, or started fresh). Default: nothing. */
  readonly log?: (message: string) => void;
  /**
   * Worker threads for a job with parallelism above 1: `'auto'` (default) = the available cores, at most the job's
   * largest parallelism; `0` runs every subtask in this thread (tests, or a job passed as a plan).
   */
  readonly workers?: number | 'auto';
  /** What to do when the job fails on worker threads (default: fail). */
  readonly restart?: RestartStrategy;
  /** Batches in flight per channel between worker threads before the sender waits. Default 8. */
  readonly credits?: number;
}

/** How a job ended. */
export interface JobResult {
  readonly jobName: string;
  readonly status: 'finished' | 'cancelled';
  /** Records read from all sources. */
  readonly recordsRead: number;
  readonly durationMs: number;
  readonly checkpoints: number;
  readonly metrics: OperatorMetricsRow[];
  /** Worker threads the job ran on (0: this thread). */
  readonly workers: number;
  /** Restarts after failures (worker threads with a restart strategy). */
  readonly restarts: number;
  /** Of `durationMs`, the time before sources started reading: starting worker threads, importing the job, restoring. */
  readonly startupMs: number;
}

/**
 * A running job. `done` settles when a bounded job finishes (all sinks committed), when it is cancelled, or with the
 * error that failed it.
 */
export interface JobHandle extends AsyncDisposable {
  readonly jobName: string;
  readonly done: Promise<JobResult>;
  /** Takes a checkpoint now; resolves when it completed (written, then committed). */
  checkpoint(): Promise<CheckpointInfo>;
  /** Takes a savepoint: a checkpoint that is kept and can start a changed job (by uid). */
  savepoint(): Promise<CheckpointInfo>;
  /** Stops reading, without committing anything after the last completed checkpoint. */
  cancel(): Promise<JobResult>;
  /** Per-operator, per-subtask metrics (from worker threads: as of their last report, twice a second). */
  metrics(): OperatorMetricsRow[];
  /** The most record batches that were in flight on one channel between threads (bounded: backpressure). */
  maxInFlightBatches(): number;
  /** The last completed checkpoint: its id, path, duration and size. */
  lastCheckpoint(): CheckpointInfo | undefined;
  /** Metrics as of now (asks worker threads for a fresh report). */
  currentMetrics(): Promise<OperatorMetricsRow[]>;
}

const YIELD_EVERY = 64;

/**
 * Runs a job in this thread: one read loop per source subtask, the rest of the job synchronously inside them,
 * periodic checkpoints on the job's clock. Returns at once; await `handle.done`.
 */
export function runJob(job: JobDefinition | LogicalPlan, opts: RunOptions = {}): JobHandle {
  const plan = 'plan' in job ? job.plan(opts.overrides) : job;
  const storage =
    opts.checkpoints === undefined ? undefined
    : typeof opts.checkpoints === 'string' ? new CheckpointStorage(new LocalFileSystem(opts.checkpoints), `/${plan.jobName}`)
    : new CheckpointStorage(opts.checkpoints.fs, `${opts.checkpoints.dir}/${plan.jobName}`, opts.checkpoints.retain);
  const widest = Math.max(...physicalPlan(plan).chains.map((c) => c.parallelism));
  if ('plan' in job && opts.workers !== 0 && widest > 1) {
    if (opts.clock !== undefined || opts.connectors !== undefined) {
      throw new CheckpointError('a manual clock or replaced connectors work only in this thread: pass workers: 0');
    }
    return runOnWorkers(job, plan, storage, opts);
  }
  const clock = opts.clock ?? new SystemClock();
  const rt = new JobRuntime(plan, clock, storage, opts.connectors);
  rt.log = opts.log;
  const startedAt = clock.now();
  let cancelled = false;
  let stopPeriodic: (() => void) | undefined;

  const result = (status: JobResult['status']): JobResult => ({
    jobName: plan.jobName,
    status,
    recordsRead: rt.sources.reduce((n, s) => n + s.recordsRead, 0),
    durationMs: clock.now() - startedAt,
    checkpoints: rt.checkpointsCompleted,
    metrics: rt.metrics(),
    workers: 0,
    restarts: 0,
    startupMs: 0,
  });

  const failed = new Promise<never>((_, reject) => { rt.onFailure = reject; });
  failed.catch(() => {});
  let stop: () => void = () => {};
  // Resolves when the job is cancelled: read loops waiting on a source stop waiting.
  const stopped = new Promise<null>((resolve) => { stop = () => { cancelled = true; resolve(null); }; });

  const schedulePeriodic = (): void => {
    const every = plan.config.checkpointIntervalMs;
    if (every === undefined || cancelled || rt.isFinished) return;
    stopPeriodic = clock.schedule(clock.now() + every, () => {
      // The input ended meanwhile: the final commit follows, without another checkpoint.
      if (rt.isFinished) return;
      rt.triggerCheckpoint().catch((e: unknown) => {
        // Skipped (one in progress, or the input ended): not a failure. A failure fails the job once more than
        // tolerableCheckpointFailures failed in a row.
        if (e instanceof CheckpointSkipped || rt.failed !== undefined) return;
        const fatal = rt.failures.failed(e);
        if (fatal) rt.fail(fatal);
        else opts.log?.(`job '${plan.jobName}': ${(e as Error)?.message ?? String(e)} (${rt.failures.count} failed checkpoint(s) in a row, ${rt.failures.tolerable} tolerated)`);
      }).finally(schedulePeriodic);
    });
  };

  // Sources waiting for records (a quiet Kafka partition) must still go idle: check on the clock, not only per batch.
  const idleness = Math.min(...rt.sources.map((d) => d.idlenessMs ?? Number.POSITIVE_INFINITY));
  let stopIdleChecks: (() => void) | undefined;
  const scheduleIdleCheck = (): void => {
    if (!Number.isFinite(idleness) || cancelled || rt.isFinished || rt.failed !== undefined) return;
    stopIdleChecks = clock.schedule(clock.now() + Math.max(1, idleness / 4), () => {
      rt.guard(() => { for (const d of rt.sources) if (!d.subtask.finished) d.checkIdleness(clock.now()); });
      scheduleIdleCheck();
    });
  };

  const readLoop = async (i: number): Promise<void> => {
    const d = rt.sources[i]!;
    let n = 0;
    while (!cancelled && rt.failed === undefined) {
      let r = d.reader.next(plan.config.batchSize);
      const sync = !(r && typeof (r as Promise<unknown>).then === 'function');
      if (!sync) r = await Promise.race([r as Promise<null>, failed, stopped]);
      if (cancelled || rt.failed !== undefined) return;
      const batch = r as Awaited<typeof r>;
      d.checkIdleness(clock.now());
      if (batch === null) {
        d.end();
        return;
      }
      d.emit(batch);
      if (rt.hasPendingWrites) {
        const waitFrom = performance.now();
        await rt.drainWrites();
        d.addBackpressure(performance.now() - waitFrom);
      }
      // Let timers (checkpoints, processing time) run between long runs of synchronous batches: only once the batch
      // read is emitted, since a barrier injected in between would store a position past records not yet handed down.
      if (sync && ++n % YIELD_EVERY === 0) await new Promise<void>((res) => setImmediate(res));
    }
  };

  // Checkpoints wait until the job restored and started: one taken meanwhile could overwrite the checkpoint being read.
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => (markStarted = r));
  const done = (async (): Promise<JobResult> => {
    try {
      if (opts.restore !== undefined) {
        if (!storage) throw new CheckpointError('restore needs checkpoint storage: pass checkpoints: <dir>');
        const cp = withoutDroppedState(opts.restore === 'latest' ? await storage.latest() : await storage.load(opts.restore), plan, opts);
        if (cp) {
          await rt.restore(cp);
          opts.log?.(restoredMessage(plan.jobName, storage, cp));
        } else {
          opts.log?.(`no completed checkpoint in ${storage.fs.uri}${storage.dir}: starting '${plan.jobName}' from the beginning`);
        }
      }
      markStarted();
      schedulePeriodic();
      scheduleIdleCheck();
      await Promise.race([Promise.all(rt.sources.map((_, i) => readLoop(i))), failed]);
      if (rt.failed !== undefined) throw rt.failed;
      if (cancelled) return result('cancelled');
      const inFlight = rt.checkpointInFlight;
      if (inFlight !== undefined) opts.log?.(`job '${plan.jobName}': input ended while checkpoint ${inFlight} is in progress; the final commit waits for checkpoint ${inFlight}`);
      await rt.commitFinal();
      return result('finished');
    } catch (e) {
      rt.fail(e);
      throw e;
    } finally {
      stopPeriodic?.();
      stopIdleChecks?.();
      await rt.close();
    }
  })();
  // The job's own timers (a rate-limited source waiting, processing-time timers, checkpoints) do not keep the process
  // alive (a finished job must not hold it open): this does, until the job ends, so that a job whose source is
  // waiting is not cut short by a process with nothing else to do. A manual clock has no timers to wait for.
  const keepAlive = opts.clock === undefined ? setInterval(() => {}, 2 ** 30) : undefined;
  const release = (): void => clearInterval(keepAlive);
  done.then(release, release);
  done.catch(() => {});

  opts.signal?.addEventListener('abort', () => stop(), { once: true });
  if (opts.signal?.aborted) stop();

  const handle: JobHandle = {
    jobName: plan.jobName,
    done,
    checkpoint: async () => {
      await Promise.race([started, done.then(() => {}, () => {})]);
      return rt.triggerCheckpoint(false);
    },
    savepoint: async () => {
      await Promise.race([started, done.then(() => {}, () => {})]);
      return rt.triggerCheckpoint(true);
    },
    async cancel() {
      stop();
      rt.stopTimers();
      try {
        return await done;
      } catch {
        return result('cancelled');
      }
    },
    metrics: () => rt.metrics(),
    maxInFlightBatches: () => 0,
    lastCheckpoint: () => rt.latestCheckpoint,
    currentMetrics: async () => rt.metrics(),
    async [Symbol.asyncDispose]() {
      await handle.cancel();
    },
  };
  return handle;
}

/**
 * With `allowNonRestoredState`, the checkpoint without the state of uids the job no longer has (logged); otherwise the
 * checkpoint as it is (the restore then fails naming those uids).
 */
function withoutDroppedState(cp: LoadedCheckpoint | undefined, plan: LogicalPlan, opts: RunOptions): LoadedCheckpoint | undefined {
  if (!cp || !opts.allowNonRestoredState) return cp;
  const known = new Set(plan.nodes.map((n) => n.uid));
  const dropped = [...cp.operators.keys()].filter((u) => !known.has(u));
  if (dropped.length === 0) return cp;
  opts.log?.(`'${plan.jobName}': dropping the state of uid(s) ${dropped.map((u) => `'${u}'`).join(', ')} from ${cp.path}, which the job no longer has (allowNonRestoredState)`);
  return { ...cp, operators: new Map([...cp.operators].filter(([u]) => known.has(u))) };
}

/** What a restore says; a final checkpoint says that the job had finished. */
function restoredMessage(jobName: string, storage: CheckpointStorage, cp: LoadedCheckpoint): string {
  const base = `restored '${jobName}' from ${storage.fs.uri}${cp.path} (checkpoint ${cp.metadata.checkpointId})`;
  return cp.metadata.final
    ? `${base}: the final checkpoint of a run that finished; its output is committed again (idempotent) and bounded sources are at their end, so nothing is read again`
    : base;
}

/** Formats metrics as a compact table (printed at the end of bounded jobs by `millrace run`). */
export function formatMetrics(rows: readonly OperatorMetricsRow[]): string {
  // The last completed checkpoint's figures, when the job took one: time to acknowledge, and bytes of state.
  const ckpt = rows.some((r) => r.lastCheckpointAckMs !== undefined);
  const head = ['operator', 'subtask', 'in', 'out', 'late', 'dead', 'busy ms', 'bp ms', 'watermark', ...(ckpt ? ['ckpt ms', 'ckpt bytes'] : [])];
  const data = rows.map((r) => [
    r.name.length > 48 ? `${r.name.slice(0, 45)}...` : r.name,
    String(r.subtask),
    String(r.recordsIn),
    String(r.recordsOut),
    String(r.lateRecordsDropped + r.lateRecordsToSideOutput),
    String(r.deadLetters),
    String(r.busyMs ?? 0),
    String(r.backpressuredMs ?? 0),
    r.watermark === Number.POSITIVE_INFINITY ? 'end' : r.watermark === Number.NEGATIVE_INFINITY ? '-' : String(r.watermark),
    ...(ckpt ? [r.lastCheckpointAckMs === undefined ? '-' : String(Math.round(r.lastCheckpointAckMs)), r.lastCheckpointBytes === undefined ? '-' : String(r.lastCheckpointBytes)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...data.map(line)].join('\n');
}

/** Runs a job on worker threads (see `runParallel`), with periodic checkpoints scheduled here. */
function runOnWorkers(job: JobDefinition, plan: LogicalPlan, storage: CheckpointStorage | undefined, opts: RunOptions): JobHandle {
  const started = Date.now();
  const workers = workersFor(plan, opts.workers);
  let run: ReturnType<typeof runParallel> | undefined;
  let stopPeriodic: (() => void) | undefined;
  let cancelled = false;
  const done = (async (): Promise<JobResult> => {
    let restoreStates;
    let restoredCheckpointId: number | undefined;
    if (opts.restore !== undefined) {
      if (!storage) throw new CheckpointError('restore needs checkpoint storage: pass checkpoints: <dir>');
      const cp = withoutDroppedState(opts.restore === 'latest' ? await storage.latest() : await storage.load(opts.restore), plan, opts);
      if (cp) {
        if (cp.metadata.maxParallelism !== plan.config.maxParallelism) {
          throw new CheckpointError(`checkpoint ${cp.path} has ${cp.metadata.maxParallelism} key groups but the job has ${plan.config.maxParallelism}: key groups are fixed for the life of a job`);
        }
        restoreStates = cp.operators;
        restoredCheckpointId = cp.metadata.checkpointId;
        opts.log?.(restoredMessage(plan.jobName, storage, cp));
      } else {
        opts.log?.(`no completed checkpoint in ${storage.fs.uri}${storage.dir}: starting '${plan.jobName}' from the beginning`);
      }
    }
    run = runParallel(job, plan, { workers, storage, restoreStates, restoredCheckpointId, restart: opts.restart, credits: opts.credits ?? 8, log: opts.log });
    const every = plan.config.checkpointIntervalMs;
    if (every !== undefined) {
      const h = setInterval(() => run!.periodic(), Math.max(1, every));
      h.unref();
      stopPeriodic = () => clearInterval(h);
    }
    try {
      const r = await run.done;
      return {
        jobName: plan.jobName,
        status: cancelled ? 'cancelled' : 'finished',
        recordsRead: r.recordsRead,
        durationMs: Date.now() - started,
        checkpoints: r.checkpoints,
        metrics: r.metrics,
        workers,
        restarts: r.restarts,
        startupMs: r.startupMs,
      };
    } finally {
      stopPeriodic?.();
    }
  })();
  done.catch(() => {});
  const waitRun = async (): Promise<NonNullable<typeof run>> => {
    for (let i = 0; !run && i < 1000; i++) await new Promise((r) => setImmediate(r));
    if (!run) throw new CheckpointError('the job has not started');
    return run;
  };
  opts.signal?.addEventListener('abort', () => { cancelled = true; void run?.cancel(); }, { once: true });
  const handle: JobHandle = {
    jobName: plan.jobName,
    done,
    checkpoint: async () => (await waitRun()).checkpoint(false),
    savepoint: async () => (await waitRun()).checkpoint(true),
    async cancel() {
      cancelled = true;
      stopPeriodic?.();
      await run?.cancel();
      try {
        return await done;
      } catch {
        return { jobName: plan.jobName, status: 'cancelled', recordsRead: 0, durationMs: Date.now() - started, checkpoints: 0, metrics: run?.metrics() ?? [], workers, restarts: 0, startupMs: 0 };
      }
    },
    metrics: () => run?.metrics() ?? [],
    maxInFlightBatches: () => run?.maxInFlight() ?? 0,
    lastCheckpoint: () => run?.lastCheckpoint(),
    currentMetrics: async () => (run ? run.currentMetrics() : []),
    async [Symbol.asyncDispose]() {
      await handle.cancel();
    },
  };
  return handle;
}
