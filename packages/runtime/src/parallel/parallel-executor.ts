import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  CheckpointError, MillraceError, physicalPlan, UserFunctionError,
  type JobDefinition, type LogicalPlan, type PhysicalPlan, type SinkWriter,
} from '@millrace/core';
import type { CheckpointStorage, SubtaskState } from '../checkpoint/checkpoint-storage.js';
import { checkpointExpired, checkpointFigures, describeSubtask, SLOW_COMMIT_NOTICE_MS, writeCheckpoint, type AckRecord, type CheckpointInfo, type OperatorMetricsRow } from '../executor/job-runtime.js';
import { CheckpointFailures, CheckpointSkipped } from '../checkpoint/checkpoint-failures.js';
import { planFingerprint, subtaskKey, type ErrorData, type FromWorker, type SlotTask, type ToWorker } from './protocol.js';
import { RestartPolicy, type RestartStrategy } from './restart-strategy.js';

/** Options of a run on worker threads. */
export interface ParallelOptions {
  readonly workers: number;
  readonly storage: CheckpointStorage | undefined;
  readonly restoreStates: ReadonlyMap<string, readonly SubtaskState[]> | undefined;
  /** The id of the checkpoint restored from: new checkpoints are numbered after it. */
  readonly restoredCheckpointId: number | undefined;
  readonly restart: RestartStrategy | undefined;
  /** Batches in flight per channel before the sender waits. */
  readonly credits: number;
  readonly log: ((message: string) => void) | undefined;
}

/** The result of one attempt. */
interface Attempt {
  readonly done: Promise<{ recordsRead: number }>;
  /** When every worker was ready and restored and sources started (ms since epoch), once they have. */
  startedRunningAt(): number | undefined;
  /** Asks every worker for its metrics now; resolves when all answered. */
  refreshMetrics(): Promise<void>;
  checkpoint(savepoint: boolean): Promise<CheckpointInfo>;
  cancel(): Promise<void>;
  /** Fails the attempt (the restart strategy decides what follows). */
  fail(e: Error): void;
  /** True once the attempt failed, finished or was cancelled: a checkpoint rejected then did not fail on its own. */
  ending(): boolean;
  metrics(): OperatorMetricsRow[];
  inFlight(): number;
}

function rebuildError(d: ErrorData): Error {
  let e: Error;
  if (d.name === 'UserFunctionError' && d.step !== undefined) {
    const cause = d.cause ? Object.assign(new Error(d.cause.message), { name: d.cause.name, stack: d.cause.stack }) : new Error(d.message);
    e = new UserFunctionError(d.step, d.uid!, d.timestamp, d.value, cause, d.context);
  } else {
    e = d.name === 'CheckpointError' ? new CheckpointError(d.message) : new MillraceError(d.message);
    if (d.name !== 'CheckpointError') (e as { name: string }).name = d.name;
  }
  if (d.stack) e.stack = d.stack;
  return e;
}

/** The number of workers for a plan: the requested number, at most the largest parallelism of any step. */
export function workersFor(plan: LogicalPlan, requested: number | 'auto' | undefined): number {
  const widest = Math.max(...physicalPlan(plan).chains.map((c) => c.parallelism));
  const want = requested === undefined || requested === 'auto' ? availableParallelism() : requested;
  return Math.max(1, Math.min(want, widest));
}

/**
 * Runs one attempt of a job on a fixed piscina pool of `workers` threads, each hosting subtask i of every step with
 * i % workers == its slot (slot sharing), as a long-lived task. The main thread coordinates: start and restore,
 * checkpoints (barriers injected in every worker, acknowledgements collected, written, then committed), end of input
 * and failures.
 */
function startAttempt(
  job: JobDefinition,
  plan: LogicalPlan,
  physical: PhysicalPlan,
  opts: ParallelOptions,
  restore: ReadonlyMap<string, readonly SubtaskState[]> | undefined,
  /** `written`: stored, being committed (a restart restores it from now on); `completed`: committed everywhere. */
  onCheckpoint: (info: CheckpointInfo, phase: 'written' | 'completed') => void,
  firstCheckpointId: number,
  onCheckpointStarted: (nextId: number) => void,
  failures: CheckpointFailures,
): Attempt {
  const W = opts.workers;
  const pool = new Piscina({
    filename: new URL('./worker-entry.js', import.meta.url).href,
    minThreads: W,
    maxThreads: W,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    maxQueue: W,
  });
  const totalSubtasks = physical.chains.reduce((n, c) => n + c.parallelism, 0);
  const controls: MessagePort[] = [];
  const tasks: Promise<void>[] = [];
  const links: Array<Array<MessagePort | null>> = Array.from({ length: W }, () => new Array<MessagePort | null>(W).fill(null));
  for (let a = 0; a < W; a++) {
    for (let b = a + 1; b < W; b++) {
      const ch = new MessageChannel();
      links[a]![b] = ch.port1;
      links[b]![a] = ch.port2;
    }
  }
  const fingerprint = planFingerprint(plan);
  let failure: Error | undefined;
  /** Set when the attempt ends on purpose (finished or cancelled): workers going away then is no failure. */
  let stopping = false;
  let rejectDone: (e: Error) => void = () => {};
  let resolveDone: (v: { recordsRead: number }) => void = () => {};
  const done = new Promise<{ recordsRead: number }>((res, rej) => { resolveDone = res; rejectDone = rej; });
  done.catch(() => {});
  const metrics = new Map<number, { rows: OperatorMetricsRow[]; recordsRead: number; inFlight: number }>();
  const broadcast = (m: ToWorker): void => { for (const c of controls) c.postMessage(m); };
  let finishedSubtasks = 0;
  let finalCommitted = 0;
  let ready = 0;
  let restoredCount = 0;
  let runningAt: number | undefined;
  let markRunning: () => void = () => {};
  /** Resolves when every worker restored and sources run: checkpoints wait for it. */
  const running = new Promise<void>((r) => (markRunning = r));
  // Checkpoint ids keep increasing across attempts, so a restarted job never overwrites an earlier checkpoint.
  let nextId = firstCheckpointId;
  let pending: {
    id: number; savepoint: boolean; final: boolean; startedAt: number; records: AckRecord[];
    /** The workers that committed the current phase (sinks, then sources): it ends when all W did. */
    answered: Set<number>; phase: 'sinks' | 'sources'; cancelNotice: () => void;
    /** Resolves once the checkpoint completed and every worker committed it, or once it failed. */
    settled: Promise<void>;
    /** Set when the timeout aborted it before it was written: it is neither written nor committed. */
    aborted: boolean;
    resolve(i: CheckpointInfo): void; reject(e: Error): void; info?: CheckpointInfo;
  } | undefined;
  const timeoutMs = plan.config.checkpointTimeoutMs ?? 600_000;
  const collectWriters = new Map<string, SinkWriter<unknown>>();
  const metricsWaiters = new Map<number, () => void>();

  const fail = (e: Error): void => {
    if (failure || stopping) return;
    failure = e;
    stopping = true;
    pending?.reject(e);
    broadcast({ type: 'cancel' });
    // The attempt ends only when its workers are gone, so that a restart never overlaps with them.
    void pool.destroy().catch(() => {}).finally(() => rejectDone(e));
  };

  const onMessage = (slot: number, m: FromWorker): void => {
    switch (m.type) {
      case 'ready':
        if (++ready === W) broadcast({ type: 'start', restore });
        return;
      case 'restored':
        // Sources start only once every worker has its state back, so no record meets an unrestored operator.
        if (++restoredCount === W) {
          broadcast({ type: 'run' });
          runningAt = Date.now();
          markRunning();
        }
        return;
      case 'ack': {
        const p = pending;
        if (!p || p.id !== m.id) return;
        // One record per subtask: a second one must neither stand in for a subtask still to acknowledge (the checkpoint
        // would lack its state) nor count twice.
        if (p.records.some((r) => r.chain === m.record.chain && r.index === m.record.index)) return;
        p.records.push({ ...m.record, ackMs: Date.now() - p.startedAt });
        if (p.records.length === totalSubtasks) {
          writeCheckpoint(opts.storage, physical, p.records, p.id, p.savepoint, Date.now(), p.final).then((w) => {
            const info: CheckpointInfo = { checkpointId: p.id, path: w.path, durationMs: 0, sizeBytes: w.sizeBytes, states: w.states, final: p.final, subtasks: w.subtasks };
            // Written, it is what a restart restores (as `--restore latest` would find it): restoring the checkpoint
            // before it could remove output this one holds (a file sink drops pending parts numbered after it).
            // Restoring a written checkpoint is always safe: the restore commits it again.
            // Aborted by the timeout while it was written, or the attempt ended meanwhile (cancelled, failed): it is
            // not committed here; the workers keep its committables for the next checkpoint.
            if (p.aborted || pending !== p || stopping) {
              onCheckpoint(info, 'written');
              return;
            }
            p.info = info;
            // Sinks may commit it from now on: a restart after a failure mid-commit must restore this checkpoint (and
            // commit it again, idempotently), not the one before, whose replay would write its output a second time.
            onCheckpoint(p.info, 'written');
            p.cancelNotice = slowCommitNotice(p);
            broadcast({ type: 'commit', id: p.id, phase: 'sinks' });
          }, (e) => { if (pending === p) pending = undefined; p.reject(e instanceof Error ? e : new Error(String(e))); });
        }
        return;
      }
      case 'committed': {
        const p = pending;
        if (!p || p.id !== m.id) return;
        if (m.phase !== p.phase) return;
        p.answered.add(slot);
        if (p.answered.size < W) return;
        // Every worker's sinks committed: now the sources may report progress (e.g. commit Kafka offsets).
        if (p.phase === 'sinks') {
          p.phase = 'sources';
          p.answered.clear();
          broadcast({ type: 'commit', id: p.id, phase: 'sources' });
          return;
        }
        p.cancelNotice();
        pending = undefined;
        const info = { ...p.info!, durationMs: Date.now() - p.startedAt };
        onCheckpoint(info, 'completed');
        failures.succeeded();
        p.resolve(info);
        return;
      }
      case 'subtask-finished': {
        if (++finishedSubtasks < totalSubtasks) return;
        // A checkpoint in flight completes and is committed before the final commit: its sinks' pre-commits may
        // still be running in the workers, and its committables must be committed before the job reports done,
        // after it is written (so that a crash in between restores from it and commits them again).
        const p = pending;
        if (p) opts.log?.(`job '${plan.jobName}': input ended while checkpoint ${p.id} is in progress; the final commit waits for checkpoint ${p.id}`);
        void (p?.settled ?? Promise.resolve()).then(async () => {
          if (stopping) return;
          // With checkpoint storage, the final cuts are committed as part of a final checkpoint, written first: a
          // crash after it restores it and commits the same output again, instead of replaying the end of the input.
          if (opts.storage) await finalCheckpoint();
          if (!stopping) broadcast({ type: 'finish', committed: opts.storage !== undefined });
        }).catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
        return;
      }
      case 'final-committed':
        if (++finalCommitted === W) {
          const recordsRead = [...metrics.values()].reduce((n, x) => n + x.recordsRead, 0);
          stopping = true;
          // Sinks relayed to this thread end here, once every worker's input ended; the job is done once every
          // worker also closed its sources and sinks (client connections, their last log lines).
          (async () => {
            for (const w of collectWriters.values()) {
              await w.finish?.();
              await w.close?.();
            }
            await Promise.allSettled(tasks);
          })().then(() => {
            void pool.destroy().catch(() => {});
            resolveDone({ recordsRead });
          }, (e: unknown) => {
            // `fail` does nothing once stopping: end the attempt with the error here.
            failure = e instanceof Error ? e : new Error(String(e));
            void pool.destroy().catch(() => {}).finally(() => rejectDone(failure!));
          });
        }
        return;
      case 'metrics':
        metrics.set(slot, { rows: m.rows, recordsRead: m.recordsRead, inFlight: m.inFlight });
        metricsWaiters.get(slot)?.();
        metricsWaiters.delete(slot);
        return;
      case 'collect': {
        let w = collectWriters.get(m.uid);
        if (!w) {
          const node = plan.nodes.find((n) => n.uid === m.uid);
          const sink = node?.spec.kind === 'sink' ? node.spec.sink : undefined;
          if (!sink) return;
          w = sink.createWriter({ jobName: plan.jobName, uid: m.uid, subtaskIndex: 0, parallelism: 1, clock: { now: Date.now, schedule: () => () => {} }, signal: new AbortController().signal });
          collectWriters.set(m.uid, w);
        }
        void w.write(m.values, m.timestamps, m.values.length);
        return;
      }
      case 'log':
        opts.log?.(m.message);
        return;
      case 'failed':
        fail(rebuildError(m.error));
        return;
    }
  };

  /**
   * Once checkpoint `p` is written, logs every SLOW_COMMIT_NOTICE_MS while its commit has not finished, naming the
   * workers still committing: later checkpoints wait for it (the workers' own notices name the subtask).
   */
  const slowCommitNotice = (p: NonNullable<typeof pending>): (() => void) => {
    const writtenAt = Date.now();
    const timer = setInterval(() => {
      if (pending !== p || stopping) return;
      const waiting = Array.from({ length: W }, (_, i) => i).filter((i) => !p.answered.has(i));
      opts.log?.(`job '${plan.jobName}': checkpoint ${p.id} was written ${Math.round((Date.now() - writtenAt) / 1000)} s ago and is still being committed: waiting for worker(s) ${waiting.join(', ')} to commit its ${p.phase === 'sinks' ? 'sinks' : 'sources (e.g. offsets)'}; no later checkpoint starts until it is done`);
    }, SLOW_COMMIT_NOTICE_MS);
    timer.unref();
    return () => clearInterval(timer);
  };

  /** Starts checkpoint `nextId`: barriers in every worker; resolves once it is written and every worker committed it. */
  const take = (savepoint: boolean, final: boolean): Promise<CheckpointInfo> => new Promise<CheckpointInfo>((resolve, reject) => {
    let settle: () => void = () => {};
    const settled = new Promise<void>((r) => (settle = r));
    const startedAt = Date.now();
    const p: NonNullable<typeof pending> = {
      id: nextId++, savepoint, final, startedAt, records: [], settled, aborted: false,
      answered: new Set(), phase: 'sinks', cancelNotice: () => {},
      resolve: (i) => { clearTimeout(timer); p.cancelNotice(); settle(); resolve(i); },
      reject: (e) => { clearTimeout(timer); p.cancelNotice(); settle(); reject(e); },
    };
    // The timeout: a checkpoint not written by then is aborted, so that the next one can start.
    const timer = setTimeout(() => {
      if (pending !== p || p.info) return;
      p.aborted = true;
      pending = undefined;
      const acked = new Set(p.records.map((r) => subtaskKey(r.chain, r.index)));
      const waitingFor = physical.chains.flatMap((c) => Array.from({ length: c.parallelism }, (_, i) => i)
        .filter((i) => !acked.has(subtaskKey(c.id, i)))
        .map((i) => `${describeSubtask(c, i)} (no acknowledgement: barrier not reached or sink pre-commit still running)`));
      const err = checkpointExpired(p.id, Date.now() - startedAt, timeoutMs, waitingFor);
      opts.log?.(err.message);
      p.reject(err);
    }, timeoutMs);
    timer.unref();
    pending = p;
    onCheckpointStarted(nextId);
    broadcast({ type: 'checkpoint', id: p.id });
  });

  /**
   * The final checkpoint, once every subtask finished: taken again after a failure while
   * `tolerableCheckpointFailures` allows, else the attempt fails without committing the final cuts.
   */
  const finalCheckpoint = async (): Promise<void> => {
    for (;;) {
      if (stopping) return;
      try {
        await take(false, true);
        return;
      } catch (e) {
        if (stopping) return;
        const fatal = failures.failed(e);
        if (fatal) throw fatal;
        opts.log?.(`job '${plan.jobName}': the final checkpoint failed (${(e as Error)?.message ?? String(e)}); taking it again (${failures.count} failure(s) in a row, ${failures.tolerable} tolerated)`);
      }
    }
  };

  for (let slot = 0; slot < W; slot++) {
    const { port1, port2 } = new MessageChannel();
    controls.push(port1);
    port1.on('message', (m: FromWorker) => onMessage(slot, m));
    const slotLinks = links[slot]!;
    const task: SlotTask = { slot, workers: W, moduleUrl: job.moduleUrl!, overrides: plan.config === undefined ? {} : {
      parallelism: plan.config.parallelism, maxParallelism: plan.config.maxParallelism, batchSize: plan.config.batchSize, errorPolicy: plan.config.errorPolicy,
      ...(plan.config.checkpointIntervalMs !== undefined ? { checkpointInterval: plan.config.checkpointIntervalMs } : {}),
      checkpointTimeout: timeoutMs, tolerableCheckpointFailures: failures.tolerable,
    }, fingerprint, credits: opts.credits, control: port2, links: slotLinks };
    const transfer = [port2, ...slotLinks.filter((p): p is MessagePort => p !== null)];
    tasks.push(pool.run(task, { transferList: transfer as never }).catch((e: unknown) => {
      if (stopping) return;
      fail(new MillraceError(`worker ${slot} of job '${plan.jobName}' stopped: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
    }));
  }

  return {
    done: done.finally(() => { for (const c of controls) c.close(); }),
    async checkpoint(savepoint) {
      await Promise.race([running, done.then(() => {}, () => {})]);
      if (failure) throw failure;
      if (pending) throw new CheckpointSkipped(`checkpoint ${pending.id} is still in progress`);
      // Once every subtask finished, only the final checkpoint follows.
      if (finishedSubtasks === totalSubtasks || stopping) throw new CheckpointSkipped('the job has finished');
      return take(savepoint, false);
    },
    fail,
    ending: () => stopping,
    async cancel() {
      stopping = true;
      // A checkpoint in flight will not complete: its caller hears so (it is not written, or written and maybe not
      // committed everywhere; a restore commits it again).
      const p = pending;
      pending = undefined;
      p?.reject(new CheckpointSkipped(`checkpoint ${p.id} of job '${plan.jobName}' did not complete: the job was cancelled first`));
      broadcast({ type: 'cancel' });
      await pool.destroy().catch(() => {});
      rejectDone(new MillraceError(`job '${plan.jobName}' was cancelled`));
    },
    startedRunningAt: () => runningAt,
    async refreshMetrics() {
      if (stopping) return;
      const answered = Array.from({ length: W }, (_, slot) => new Promise<void>((r) => metricsWaiters.set(slot, r)));
      broadcast({ type: 'metrics' });
      await Promise.race([Promise.all(answered), done.then(() => {}, () => {})]);
    },
    metrics: () => [...metrics.values()].flatMap((x) => x.rows),
    inFlight: () => Math.max(0, ...[...metrics.values()].map((x) => x.inFlight)),
  };
}

/** Handle of a job running on worker threads, across restarts. */
export interface ParallelRun {
  readonly done: Promise<{ recordsRead: number; restarts: number; checkpoints: number; metrics: OperatorMetricsRow[]; startupMs: number }>;
  checkpoint(savepoint: boolean): Promise<CheckpointInfo>;
  /**
   * Takes a periodic checkpoint: skipped while one is in progress; a failure is logged and counted, and fails the
   * current attempt once more than `tolerableCheckpointFailures` failed in a row.
   */
  periodic(): void;
  cancel(): Promise<void>;
  metrics(): OperatorMetricsRow[];
  /** The most batches that were in flight on one channel (bounded by the credits: backpressure). */
  maxInFlight(): number;
  lastCheckpoint(): CheckpointInfo | undefined;
  /** Fresh metrics from every worker. */
  currentMetrics(): Promise<OperatorMetricsRow[]>;
}

/**
 * Runs a job on worker threads with a restart strategy: after a failure, restarts from the last completed checkpoint
 * (in memory, or read back from storage) after the strategy's delay, until it gives up.
 */
export function runParallel(job: JobDefinition, plan: LogicalPlan, opts: ParallelOptions): ParallelRun {
  if (!job.moduleUrl) {
    throw new MillraceError(`job '${plan.jobName}' cannot run on worker threads: the module that defines it is unknown; pass defineJob(name, build, { module: import.meta.url })`);
  }
  const physical = physicalPlan(plan);
  const policy = new RestartPolicy(opts.restart);
  const failures = new CheckpointFailures(plan.jobName, plan.config.tolerableCheckpointFailures ?? 0);
  let latest: ReadonlyMap<string, readonly SubtaskState[]> | undefined = opts.restoreStates;
  let checkpoints = 0;
  let attempt: Attempt | undefined;
  let cancelled = false;
  let maxInFlight = 0;
  let lastMetrics: OperatorMetricsRow[] = [];
  let nextCheckpointId = (opts.restoredCheckpointId ?? 0) + 1;
  let last: CheckpointInfo | undefined;
  const onCheckpoint = (info: CheckpointInfo, phase: 'written' | 'completed'): void => {
    latest = info.states;
    if (phase === 'written') return;
    last = info;
    checkpoints++;
  };
  const began = Date.now();
  let firstRunningAt: number | undefined;
  const startup = (): number => (firstRunningAt ?? attempt?.startedRunningAt() ?? Date.now()) - began;
  const done = (async () => {
    for (let restart = false; ; restart = true) {
      // A restart without any completed checkpoint still restores (from nothing), so that sinks remove what the
      // failed attempt wrote.
      attempt = startAttempt(job, plan, physical, opts, latest ?? (restart ? new Map() : undefined), onCheckpoint, nextCheckpointId, (n) => { nextCheckpointId = n; }, failures);
      try {
        const r = await attempt.done;
        firstRunningAt ??= attempt.startedRunningAt();
        maxInFlight = Math.max(maxInFlight, attempt.inFlight());
        lastMetrics = withCheckpointFigures(attempt.metrics(), last);
        return { recordsRead: r.recordsRead, restarts: policy.restarts, checkpoints, metrics: lastMetrics, startupMs: startup() };
      } catch (e) {
        firstRunningAt ??= attempt.startedRunningAt();
        maxInFlight = Math.max(maxInFlight, attempt.inFlight());
        lastMetrics = withCheckpointFigures(attempt.metrics(), last);
        if (cancelled) return { recordsRead: sourceRecords(lastMetrics, plan), restarts: policy.restarts, checkpoints, metrics: lastMetrics, startupMs: startup() };
        // A restarted attempt gets the whole tolerance for failed checkpoints again.
        failures.succeeded();
        const delay = policy.next(Date.now());
        if (delay === undefined) {
          if (policy.restarts > 1) opts.log?.(`job '${plan.jobName}' failed again after ${policy.restarts - 1} restart(s); giving up`);
          throw e;
        }
        opts.log?.(`job '${plan.jobName}' failed (${(e as Error).message}); restarting ${last ? `from checkpoint ${last.checkpointId}` : latest ? 'from the restored checkpoint' : 'from the beginning'} in ${delay} ms (restart ${policy.restarts})`);
        await new Promise((r) => setTimeout(r, delay));
        if (cancelled) return { recordsRead: 0, restarts: policy.restarts, checkpoints, metrics: lastMetrics, startupMs: startup() };
      }
    }
  })();
  done.catch(() => {});
  return {
    done,
    checkpoint: (savepoint) => attempt!.checkpoint(savepoint),
    periodic() {
      const a = attempt;
      if (!a || cancelled) return;
      a.checkpoint(false).catch((e: unknown) => {
        // Rejected because the attempt is failing (a worker died) or ending: that is no checkpoint failure.
        if (e instanceof CheckpointSkipped || cancelled || a !== attempt || a.ending()) return;
        const fatal = failures.failed(e);
        if (fatal) {
          opts.log?.(fatal.message);
          a.fail(fatal);
        } else {
          opts.log?.(`job '${plan.jobName}': ${(e as Error)?.message ?? String(e)} (${failures.count} failed checkpoint(s) in a row, ${failures.tolerable} tolerated)`);
        }
      });
    },
    async cancel() {
      cancelled = true;
      await attempt?.cancel();
    },
    metrics: () => (attempt ? withCheckpointFigures(attempt.metrics(), last) : lastMetrics),
    maxInFlight: () => Math.max(maxInFlight, attempt?.inFlight() ?? 0),
    lastCheckpoint: () => last,
    async currentMetrics() {
      await attempt?.refreshMetrics();
      return attempt ? withCheckpointFigures(attempt.metrics(), last) : lastMetrics;
    },
  };
}

export { subtaskKey };

/** Rows from the workers with the last completed checkpoint's figures (known here, where checkpoints complete). */
function withCheckpointFigures(rows: readonly OperatorMetricsRow[], last: CheckpointInfo | undefined): OperatorMetricsRow[] {
  return rows.map((r) => ({ ...r, ...checkpointFigures(last, r.uid, r.subtask) }));
}

/** Records read by the sources, from metrics rows. */
function sourceRecords(rows: readonly OperatorMetricsRow[], plan: LogicalPlan): number {
  const sources = new Set(plan.nodes.filter((n) => n.spec.kind === 'source').map((n) => n.uid));
  return rows.filter((r) => sources.has(r.uid)).reduce((n, r) => n + r.recordsIn, 0);
}
