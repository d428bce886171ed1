import {
  CheckpointError, DEAD_LETTERS, physicalPlan,
  type Clock, type Key, type KeySelector, type LogicalPlan, type PhysicalPlan, type PlanNode, type Sink, type Source, type SourceReader,
} from '@millrace/core';
import type { CheckpointStorage, LoadedCheckpoint, SubtaskState } from '../checkpoint/checkpoint-storage.js';
import { CheckpointFailures, CheckpointSkipped } from '../checkpoint/checkpoint-failures.js';
import { Router, type RouteTarget } from './routing.js';
import type { ChannelReceiver } from './channel-message.js';
import { SourceDriver, type SourcePosition } from './source-driver.js';
import { BusyClock, FINAL_CUT, Subtask, type SubtaskAck, type SubtaskHost } from './subtask.js';
import type { OperatorSnapshot } from '../operators/operator.js';

/** Where subtasks run, for a runtime that hosts only some of them (one worker thread of a parallel job). */
export interface Placement {
  isLocal(chain: number, index: number): boolean;
  /** A receiver that forwards channel messages to subtask `index` of `chain`, which runs elsewhere. */
  remote(chain: number, index: number): ChannelReceiver;
}

/** Replaces sources and sinks by uid (test drivers swap in in-memory ones). */
export interface ConnectorOverrides {
  readonly sources?: ReadonlyMap<string, Source<unknown>>;
  readonly sinks?: ReadonlyMap<string, Sink<unknown>>;
}

/** One subtask's acknowledgement of a barrier, as plain data (crosses threads by structured clone). */
export interface AckRecord {
  readonly chain: number;
  readonly index: number;
  readonly snapshot: OperatorSnapshot;
  readonly sinkState: unknown;
  readonly committables: readonly unknown[] | undefined;
  /** The head operator's state descriptors, for the checkpoint metadata. */
  readonly stateInfo: unknown;
  /** Milliseconds from the checkpoint's start until this subtask acknowledged it (set by whoever collects the acks). */
  readonly ackMs?: number;
}

/** One subtask's part of a completed checkpoint, for the metrics. */
export interface SubtaskCheckpointStats {
  /** The uid of the subtask's first step (as in the metrics rows). */
  readonly uid: string;
  readonly subtask: number;
  /** Milliseconds from the checkpoint's start until the subtask acknowledged it (barrier alignment and snapshot). */
  readonly ackMs: number;
  /** Bytes of its state written (its steps' state, a fused sink's included; 0 without storage). */
  readonly bytes: number;
}

/**
 * Groups the acknowledgements of all subtasks by operator uid (a sink fused into a chain gets its own entry) and
 * writes them to storage, when there is one. Returns what a restore reads.
 */
export async function writeCheckpoint(
  storage: CheckpointStorage | undefined,
  physical: PhysicalPlan,
  records: readonly AckRecord[],
  id: number,
  savepoint: boolean,
  now: number,
  /** The final checkpoint of a bounded job (every subtask finished). */
  final = false,
): Promise<{ path: string | undefined; sizeBytes: number; states: Map<string, SubtaskState[]>; subtasks: SubtaskCheckpointStats[] }> {
  const byUid = new Map<string, { node: PlanNode; parallelism: number; state: unknown; subtasks: SubtaskState[] }>();
  for (const r of records) {
    const chain = physical.chains[r.chain]!;
    const head = chain.nodes[0]!;
    const last = chain.nodes[chain.nodes.length - 1]!;
    const sinkNode = last.spec.kind === 'sink' ? last : undefined;
    const add = (node: PlanNode, snapshot: OperatorSnapshot, c?: readonly unknown[], state: unknown = null): void => {
      let e = byUid.get(node.uid);
      if (!e) byUid.set(node.uid, (e = { node, parallelism: chain.parallelism, state, subtasks: [] }));
      e.subtasks.push({ subtask: r.index, snapshot, ...(c ? { committables: c } : {}) });
    };
    const sinkPart: OperatorSnapshot = r.sinkState === undefined ? {} : { operator: r.sinkState };
    if (sinkNode && sinkNode !== head) {
      add(head, r.snapshot, undefined, r.stateInfo);
      add(sinkNode, sinkPart, r.committables);
    } else if (sinkNode) {
      add(sinkNode, sinkPart, r.committables);
    } else {
      add(head, r.snapshot, undefined, r.stateInfo);
    }
  }
  for (const [uid, e] of byUid) if (e.subtasks.every((x) => x.snapshot.keyed === undefined && x.snapshot.operator === undefined && !x.committables)) byUid.delete(uid);
  for (const e of byUid.values()) e.subtasks.sort((a, b) => a.subtask - b.subtask);
  let path: string | undefined;
  let sizeBytes = 0;
  let subtaskBytes = new Map<string, Map<number, number>>();
  if (storage) {
    const written = await storage.write(
      { jobName: physical.logical.jobName, checkpointId: id, timestamp: now, maxParallelism: physical.logical.config.maxParallelism, savepoint, ...(final ? { final } : {}) },
      [...byUid.values()].map((e) => ({ uid: e.node.uid, name: e.node.name, kind: e.node.spec.kind, parallelism: e.parallelism, state: e.state, subtasks: e.subtasks })),
    );
    path = written.path;
    sizeBytes = written.bytes;
    subtaskBytes = written.subtaskBytes;
  }
  const subtasks = records.map((r): SubtaskCheckpointStats => {
    const chain = physical.chains[r.chain]!;
    const uids = new Set([chain.nodes[0]!.uid, chain.nodes[chain.nodes.length - 1]!.uid]);
    let bytes = 0;
    for (const u of uids) bytes += subtaskBytes.get(u)?.get(r.index) ?? 0;
    return { uid: chain.nodes[0]!.uid, subtask: r.index, ackMs: r.ackMs ?? 0, bytes };
  });
  return { path, sizeBytes, states: new Map([...byUid].map(([uid, e]) => [uid, e.subtasks])), subtasks };
}

/** A completed checkpoint. */
export interface CheckpointInfo {
  readonly checkpointId: number;
  /** Where it was written, when the job has checkpoint storage. */
  readonly path: string | undefined;
  readonly durationMs: number;
  /** Bytes of state written (0 without storage). */
  readonly sizeBytes: number;
  /** The subtask states, by operator uid (what a restore reads). */
  readonly states: ReadonlyMap<string, readonly SubtaskState[]>;
  /** The final checkpoint of a bounded job: taken once every subtask finished, committed before the job ends. */
  readonly final: boolean;
  /** Per subtask: time to acknowledge and bytes of state. */
  readonly subtasks: readonly SubtaskCheckpointStats[];
}

/** How long a sink commit (or a source's completion handling) may run before the log says what is waiting. */
export const SLOW_COMMIT_NOTICE_MS = 30_000;

/** Names subtask `index` of a chain in messages: its steps, the head's uid and the index. */
export function describeSubtask(chain: { readonly nodes: readonly PlanNode[] }, index: number): string {
  return `'${chain.nodes.map((n) => n.name).join(' → ')}' (uid '${chain.nodes[0]!.uid}') subtask ${index}`;
}

/** The error of a checkpoint aborted by the timeout, naming what it still waited for. */
export function checkpointExpired(id: number, elapsedMs: number, timeoutMs: number, waitingFor: readonly string[]): CheckpointError {
  return new CheckpointError(
    `checkpoint ${id} expired after ${Math.round(elapsedMs)} ms (checkpointTimeout ${timeoutMs} ms) and was aborted; still waiting for ${waitingFor.length > 0 ? waitingFor.join(', ') : 'its write to checkpoint storage'}. ` +
      'What its sinks pre-committed goes into the next checkpoint. A sink or storage that is slow rather than stuck needs a longer checkpointTimeout.',
  );
}

interface PendingCheckpoint {
  readonly id: number;
  readonly startedAt: number;
  readonly savepoint: boolean;
  readonly final: boolean;
  readonly acks: Map<Subtask, SubtaskAck>;
  /** When each subtask acknowledged (clock time). */
  readonly ackedAt: Map<Subtask, number>;
  /** Subtasks whose acknowledgement settled (the sink's pre-commit finished). */
  readonly resolved: Set<Subtask>;
  /** Set once its metadata is written: from then on the timeout no longer applies. */
  written: boolean;
  /** Set when the timeout aborted it: it is neither committed nor reported complete. */
  aborted: boolean;
  cancelTimeout: () => void;
  readonly expected: number;
  /** Resolves once the checkpoint completed (written and committed) or failed. */
  readonly settled: Promise<void>;
  resolve(info: CheckpointInfo): void;
  reject(e: unknown): void;
}

/** Per-operator, per-subtask figures. */
export interface OperatorMetricsRow {
  readonly uid: string;
  readonly name: string;
  readonly subtask: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly batchesIn: number;
  readonly watermark: number;
  readonly lateRecordsDropped: number;
  readonly lateRecordsToSideOutput: number;
  readonly deadLetters: number;
  /** Time spent processing (ms), exclusive of other subtasks in the same thread. */
  readonly busyMs: number;
  /** Time a source waited for full outputs (ms). */
  readonly backpressuredMs: number;
  /** In the last completed checkpoint: ms from its start until this subtask acknowledged it (alignment and snapshot). */
  readonly lastCheckpointAckMs?: number;
  /** In the last completed checkpoint: bytes of this subtask's state. */
  readonly lastCheckpointBytes?: number;
}

/**
 * A job's subtasks, wired in one thread: builds a subtask per chain and parallel index, routes outputs to consumers
 * (forward, hash by key group, rebalance, broadcast), drives sources, and coordinates checkpoints (barriers injected
 * at every source at once, acknowledged by every subtask, written to storage, then committed).
 *
 * Synchronous except for checkpoint completion and sink I/O: the executor's read loops and the test driver both
 * call into it.
 */
export class JobRuntime implements SubtaskHost {
  readonly physical: PhysicalPlan;
  readonly subtasks: Subtask[] = [];
  readonly sources: SourceDriver[] = [];
  readonly sinks: Subtask[] = [];
  readonly jobName: string;
  readonly maxParallelism: number;
  readonly errorPolicy;
  private readonly dlProducers = new Set<number>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private readonly scheduled = new Map<Subtask, { at: number; cancel: () => void }>();
  private nextCheckpointId = 1;
  private inFlight: PendingCheckpoint | undefined;
  /** The barrier injected here last, and the local subtasks that have not acknowledged it yet. */
  private injected: { readonly id: number; readonly waiting: Set<Subtask> } | undefined;
  private unfinished: number;
  private failure: unknown;
  private lastCompleted: CheckpointInfo | undefined;
  readonly abort = new AbortController();
  onFinished: (() => void) | undefined;
  /** Set in a worker: acknowledgements go to the coordinator on the main thread instead of completing here. */
  onAck: ((subtask: Subtask, checkpointId: number, ack: SubtaskAck) => void) | undefined;
  /** Called when a local subtask finished. */
  onSubtaskFinished: ((subtask: Subtask) => void) | undefined;
  private readonly committables = new Map<number, Map<Subtask, readonly unknown[]>>();
  /** Acknowledgements whose sink pre-commit is still running (`resolveAck`), in a worker. */
  private readonly resolvingAcks = new Set<Promise<unknown>>();
  onFailure: ((e: unknown) => void) | undefined;
  checkpointsCompleted = 0;
  readonly busy = new BusyClock();
  /** Periodic and final checkpoints that failed in a row (`tolerableCheckpointFailures`). */
  readonly failures: CheckpointFailures;
  /** Receives what the runtime does on its own (a checkpoint aborted by the timeout, the final checkpoint retried). */
  log: ((message: string) => void) | undefined;
  /** Checkpoints the timeout aborted: late acknowledgements still hand over their sinks' committables. */
  private readonly abortedIds = new Set<number>();

  constructor(
    readonly plan: LogicalPlan,
    readonly clock: Clock,
    private readonly storage: CheckpointStorage | undefined,
    overrides: ConnectorOverrides = {},
    /** Which subtasks run here; the others are reached through `placement.remote`. Default: all run here. */
    readonly placement?: Placement,
  ) {
    this.physical = physicalPlan(plan);
    this.jobName = plan.jobName;
    this.maxParallelism = plan.config.maxParallelism;
    this.errorPolicy = plan.config.errorPolicy;
    this.failures = new CheckpointFailures(plan.jobName, plan.config.tolerableCheckpointFailures ?? 0);
    for (const n of plan.nodes) for (const e of n.inputs) if (e.sideOutput === DEAD_LETTERS.id) this.dlProducers.add(e.from);
    const isLocal = (chain: number, index: number): boolean => placement?.isLocal(chain, index) ?? true;

    // Receivers of every subtask of every chain: the local subtask, or a proxy that sends to where it runs.
    const receivers: ChannelReceiver[][] = [];
    const local: Array<Array<Subtask | undefined>> = [];
    for (const chain of this.physical.chains) {
      const channels = chain.inputs.reduce((s, i) => s + this.physical.chains[i.fromChain]!.parallelism, 0);
      const keyed = chain.inputs.find((i) => i.edge.partitioning === 'hash')?.edge.keySelector as KeySelector<unknown, Key> | undefined;
      const recv: ChannelReceiver[] = [];
      const mine: Array<Subtask | undefined> = [];
      for (let i = 0; i < chain.parallelism; i++) {
        if (isLocal(chain.id, i)) {
          const sub = new Subtask(chain, i, channels, this, keyed);
          this.subtasks.push(sub);
          recv.push(sub);
          mine.push(sub);
        } else {
          recv.push(placement!.remote(chain.id, i));
          mine.push(undefined);
        }
      }
      receivers.push(recv);
      local.push(mine);
    }
    // Wire routers of local producers: for every consumer chain input, a target per producer subtask and output.
    const targets = new Map<Subtask, Map<string, RouteTarget[]>>(); // producer → `${nodeId}` or `${nodeId}:${tag}` → targets
    for (const chain of this.physical.chains) {
      let offset = 0;
      for (const input of chain.inputs) {
        const producers = local[input.fromChain]!;
        producers.forEach((p, pi) => {
          if (!p) return;
          const key = `${input.edge.from}${input.edge.sideOutput !== undefined ? `:${input.edge.sideOutput}` : ''}`;
          let byOutput = targets.get(p);
          if (!byOutput) targets.set(p, (byOutput = new Map()));
          let l = byOutput.get(key);
          if (!l) byOutput.set(key, (l = []));
          l.push({ partitioning: input.edge.partitioning, keySelector: input.edge.keySelector as KeySelector<unknown, Key> | undefined, receivers: receivers[chain.id]!, channel: offset + pi });
        });
        offset += producers.length;
      }
    }
    for (const s of this.subtasks) {
      const last = s.chain.nodes[s.chain.nodes.length - 1]!;
      const mine = targets.get(s) ?? new Map<string, RouteTarget[]>();
      s.main = new Router(mine.get(`${last.id}`) ?? [], s.index, this.maxParallelism);
      for (const [key, t] of mine) if (key.includes(':')) s.sides.set(key, new Router(t, s.index, this.maxParallelism));
    }
    // Sources and sinks.
    for (const s of this.subtasks) {
      const head = s.headNode;
      if (head.spec.kind === 'source') {
        const source = overrides.sources?.get(head.uid) ?? head.spec.source;
        const reader: SourceReader<unknown> = source.createReader({ jobName: this.jobName, uid: head.uid, subtaskIndex: s.index, parallelism: s.chain.parallelism, clock, signal: this.abort.signal, deadLetters: this.dlProducers.size > 0 });
        this.sources.push(new SourceDriver(s, source, reader, head.spec.watermarks, this.busy));
      }
      if (s.sinkNode && s.sinkNode.spec.kind === 'sink') {
        const sink = overrides.sinks?.get(s.sinkNode.uid) ?? s.sinkNode.spec.sink;
        s.sinkWriter = sink.createWriter({ jobName: this.jobName, uid: s.sinkNode.uid, subtaskIndex: s.index, parallelism: s.chain.parallelism, clock, signal: this.abort.signal });
        this.sinks.push(s);
      }
    }
    this.unfinished = this.subtasks.length;
  }

  // ---- SubtaskHost ----
  hasDeadLetterConsumer(node: PlanNode): boolean {
    return this.dlProducers.has(node.id);
  }
  requestProcessingTime(subtask: Subtask, timestamp: number): void {
    const cur = this.scheduled.get(subtask);
    if (cur && cur.at <= timestamp) return;
    cur?.cancel();
    const cancel = this.clock.schedule(timestamp, () => {
      this.scheduled.delete(subtask);
      this.guard(() => subtask.onProcessingTime(this.clock.now()));
    });
    this.scheduled.set(subtask, { at: timestamp, cancel });
  }
  acknowledge(subtask: Subtask, checkpointId: number, ack: SubtaskAck): void {
    if (this.injected?.id === checkpointId) this.injected.waiting.delete(subtask);
    if (this.onAck) {
      this.onAck(subtask, checkpointId, ack);
      return;
    }
    const p = this.inFlight;
    if (!p || p.id !== checkpointId) {
      // A late acknowledgement of a checkpoint the timeout aborted: keep what its sink pre-committed, so that the
      // next checkpoint holds it and commits it.
      if (this.abortedIds.has(checkpointId)) this.resolveAck(subtask, checkpointId, ack).catch(() => {});
      return;
    }
    p.acks.set(subtask, ack);
    p.ackedAt.set(subtask, this.clock.now());
    if (p.acks.size === p.expected) void this.complete(p);
  }
  finished(subtask: Subtask): void {
    // On worker threads a subtask can finish without ever seeing the barrier injected last: its producers on other
    // threads had finished when it was injected there (and acknowledged without sending it on), and their end of
    // input reached this subtask only after it was injected here. It acknowledges with its state at end of input.
    if (this.injected?.waiting.has(subtask)) subtask.acknowledgeFinished(this.injected.id);
    this.onSubtaskFinished?.(subtask);
    this.unfinished--;
    if (this.unfinished === 0) this.onFinished?.();
  }
  pending(p: Promise<unknown>): void {
    this.pendingWrites.add(p);
    p.then(() => this.pendingWrites.delete(p), (e) => { this.pendingWrites.delete(p); this.fail(e); });
  }

  /** Runs `fn`, turning an exception into a job failure (for callbacks from timers). */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Fails the job once: stops everything; the executor reports the error. */
  fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    this.stopTimers();
    this.abort.abort(e);
    this.inFlight?.reject(e);
    this.onFailure?.(e);
  }

  get failed(): unknown {
    return this.failure;
  }

  get isFinished(): boolean {
    return this.unfinished === 0;
  }

  /** True while sink writes are in flight. */
  get hasPendingWrites(): boolean {
    return this.pendingWrites.size > 0;
  }

  /** Waits for sink writes in flight (backpressure). */
  async drainWrites(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  stopTimers(): void {
    for (const s of this.scheduled.values()) s.cancel();
    this.scheduled.clear();
    for (const stop of [...this.slowNotices]) stop();
  }

  // ---- checkpoints ----

  /** Restores every operator from a loaded checkpoint (sources seek, sinks re-commit). */
  async restore(cp: LoadedCheckpoint | ReadonlyMap<string, readonly SubtaskState[]>): Promise<void> {
    const states = 'metadata' in cp ? (cp as LoadedCheckpoint).operators : (cp as ReadonlyMap<string, readonly SubtaskState[]>);
    if ('metadata' in cp) {
      const meta = (cp as LoadedCheckpoint).metadata;
      if (meta.maxParallelism !== this.maxParallelism) {
        throw new CheckpointError(`checkpoint ${(cp as LoadedCheckpoint).path} has ${meta.maxParallelism} key groups but the job has ${this.maxParallelism}: key groups are fixed for the life of a job`);
      }
      // Checkpoint ids keep increasing across restarts, so a later checkpoint never gets a smaller id than the one
      // restored (the newest id is what `--restore latest` picks).
      this.nextCheckpointId = Math.max(this.nextCheckpointId, meta.checkpointId + 1);
    }
    const known = new Set(this.plan.nodes.map((n) => n.uid));
    const unknown = [...states.keys()].filter((u) => !known.has(u));
    if (unknown.length > 0) {
      throw new CheckpointError(`the checkpoint has state for uid(s) ${unknown.map((u) => `'${u}'`).join(', ')}, which the job no longer has: restore into a job with those uids, or drop their state on purpose with allowNonRestoredState: true (millrace run --allow-non-restored-state)`);
    }
    for (const s of this.subtasks) {
      const head = s.headNode;
      const headStates = states.get(head.uid);
      if (headStates && s.head) s.head.restore(headStates.map((x) => x.snapshot));
      const src = this.sources.find((d) => d.subtask === s);
      if (src && headStates) {
        const mine = headStates.find((x) => x.subtask === s.index);
        if (headStates.length !== s.chain.parallelism && !src.source.rescalable) {
          throw new CheckpointError(`source '${head.name}' (uid '${head.uid}') was checkpointed at parallelism ${headStates.length} and now runs at ${s.chain.parallelism}: this source (${src.source.description}) cannot move its position between subtasks; restore at parallelism ${headStates.length}, or give the source its own parallelism (e.g. { uid: '${head.uid}', parallelism: ${headStates.length} }) so that other steps can rescale`);
        }
        const all = headStates.flatMap((x) => (x.snapshot.operator ? [x.snapshot.operator as SourcePosition] : []));
        await src.restore(mine?.snapshot.operator as SourcePosition | undefined, all);
      }
      if (s.sinkNode && s.sinkWriter) {
        const sinkStates = states.get(s.sinkNode.uid);
        const mine = sinkStates?.find((x) => x.subtask === s.index);
        if (mine?.snapshot.operator !== undefined) await s.sinkWriter.restore?.(mine.snapshot.operator);
        else await s.sinkWriter.restore?.(undefined);
        // Committables of the completed checkpoint may not have been committed before the crash: commit again (idempotent).
        const all = (sinkStates ?? []).filter((x) => x.subtask % s.chain.parallelism === s.index).flatMap((x) => x.committables ?? []);
        if (all.length > 0 && s.sinkWriter.commit) {
          await this.noticeIfSlow(`sink ${describeSubtask(s.chain, s.index)} is still committing the restored checkpoint's output`, s.sinkWriter.commit(all), 'the job starts only once it is done');
        }
      }
    }
  }

  /**
   * Injects barrier `id` at every local source now, between two batches; finished subtasks acknowledge at once with
   * the state they had at end of input and their sink's final cut. Acknowledgements arrive through `acknowledge`.
   */
  injectBarrier(id: number): void {
    // On worker threads, subtasks whose inputs from this thread had ended may have received barrier `id` from other
    // threads and acknowledged it before this message arrived (messages on different ports are not ordered): they
    // are not waiting for it, and a finished one does not acknowledge it a second time (`acknowledgeFinished`).
    this.injected = { id, waiting: new Set(this.subtasks.filter((s) => !s.finished && s.acknowledged < id)) };
    for (const s of this.subtasks) if (s.finished) s.acknowledgeFinished(id);
    for (const src of this.sources) if (!src.subtask.finished) src.subtask.checkpoint(id);
  }

  /** Turns an acknowledgement into plain data (awaiting the sink's pre-commit), keeping the committables for `commitLocal`. */
  resolveAck(s: Subtask, id: number, ack: SubtaskAck): Promise<AckRecord> {
    // One subtask's acknowledgements settle in checkpoint order: a later one collects the committables of earlier
    // ones not committed yet, so it must not settle before an earlier, slower pre-commit (e.g. of a checkpoint the
    // timeout aborted) has put its committables in.
    const r = (this.ackTail.get(s) ?? Promise.resolve()).then(() => this.resolveAckNow(s, id, ack));
    this.ackTail.set(s, r.then(() => {}, () => {}));
    const tracked = r.then(() => {}, () => {});
    this.resolvingAcks.add(tracked);
    void tracked.then(() => this.resolvingAcks.delete(tracked));
    return r;
  }

  /** Per subtask, the acknowledgement settling last (see `resolveAck`). */
  private readonly ackTail = new Map<Subtask, Promise<void>>();

  private async resolveAckNow(s: Subtask, id: number, ack: SubtaskAck): Promise<AckRecord> {
    const cut = ack.committables ? await ack.committables : undefined;
    if (cut && cut.length > 0) {
      let m = this.committables.get(id);
      if (!m) this.committables.set(id, (m = new Map()));
      m.set(s, cut);
    }
    // Committables of earlier checkpoints not committed yet (one failed to complete, or its commit still runs) go
    // into this one too: a restore from it commits them again, so none is left behind by a crash.
    const earlier: unknown[] = [];
    for (const k of [...this.committables.keys()].sort((a, b) => a - b)) {
      const c = k < id ? this.committables.get(k)!.get(s) : undefined;
      if (c && c !== cut) earlier.push(...c);
    }
    const committables = earlier.length > 0 ? [...earlier, ...(cut ?? [])] : cut;
    // A finished subtask's sink state comes with its final cut (a promise); a running one's is the writer's value.
    const sinkState = ack.sinkState instanceof Promise ? await ack.sinkState : ack.sinkState;
    return { chain: s.chain.id, index: s.index, snapshot: ack.snapshot, sinkState, committables, stateInfo: s.head?.describeState?.() ?? null };
  }

  /**
   * Checkpoint `id` completed: local sinks commit what they pre-committed for it, local sources are told. Commits run
   * one after another in checkpoint order, even when a later checkpoint completes while an earlier commit still runs.
   */
  commitLocal(id: number): Promise<void> {
    return this.inCommitOrder(() => this.commitNow(id));
  }

  /** Runs `commit` after the commits queued before it (a sink never commits twice at once). */
  private inCommitOrder(commit: () => Promise<void>): Promise<void> {
    const run = this.commitQueue.then(commit);
    this.commitQueue = run.catch(() => {});
    return run;
  }

  private commitQueue: Promise<void> = Promise.resolve();

  /**
   * Commits what was pre-committed for checkpoint `id` and for earlier ones not committed yet (a checkpoint that
   * failed to complete: the completed one holds their committables too), oldest first. They are forgotten only once
   * committed, so a checkpoint taken meanwhile still holds them.
   */
  private async commitNow(id: number): Promise<void> {
    await this.commitSinksNow(id);
    await this.notifySourcesNow(id);
  }

  /**
   * The first half of `commitLocal`, for the worker coordinator: every worker's sinks commit checkpoint `id` before any
   * worker's sources are told (`notifySourcesLocal`), so a source never commits progress (Kafka offsets) for output that
   * a sink on another worker has not committed yet — a crash in between would lose it for an instance taking over.
   */
  commitSinksLocal(id: number): Promise<void> {
    return this.inCommitOrder(() => this.commitSinksNow(id));
  }

  /** The second half of `commitLocal`: tells local sources that checkpoint `id` completed. */
  notifySourcesLocal(id: number): Promise<void> {
    return this.inCommitOrder(() => this.notifySourcesNow(id));
  }

  private async commitSinksNow(id: number): Promise<void> {
    for (const k of [...this.committables.keys()].filter((k) => k <= id).sort((a, b) => a - b)) {
      for (const [s, c] of this.committables.get(k)!) {
        const w = s.sinkWriter;
        if (w?.commit) await this.noticeIfSlow(`sink ${describeSubtask(s.chain, s.index)} is still committing the output of checkpoint ${k}${k < id ? ` (with checkpoint ${id})` : ''}`, w.commit(c));
      }
      this.committables.delete(k);
    }
  }

  private async notifySourcesNow(id: number): Promise<void> {
    for (const src of this.sources) {
      await this.noticeIfSlow(`source ${describeSubtask(src.subtask.chain, src.subtask.index)} is still handling the completion of checkpoint ${id} (e.g. committing offsets)`, src.reader.notifyCheckpointComplete?.(id));
    }
  }

  /**
   * Awaits a commit; if it is still running after `SLOW_COMMIT_NOTICE_MS` (and again each time that much longer), logs
   * what is waiting. Checkpoints commit in order, so one commit that hangs holds back every later checkpoint's output:
   * the log says which subtask it is, where a timeout would only say that nothing completes.
   */
  private async noticeIfSlow<T>(what: string, work: T | Promise<T>, holds = 'later checkpoints complete only once it is done'): Promise<T> {
    if (!(work instanceof Promise)) return work;
    const began = this.clock.now();
    let cancelTimer: () => void = () => {};
    const stop = (): void => {
      cancelTimer();
      this.slowNotices.delete(stop);
    };
    const arm = (at: number): void => {
      cancelTimer = this.clock.schedule(at, () => {
        // A stopped job (cancelled, failed) says nothing more about commits it no longer waits for.
        if (this.abort.signal.aborted) return stop();
        this.log?.(`job '${this.jobName}': ${what} after ${Math.round((this.clock.now() - began) / 1000)} s; ${holds}`);
        arm(this.clock.now() + SLOW_COMMIT_NOTICE_MS);
      });
    };
    this.slowNotices.add(stop);
    arm(began + SLOW_COMMIT_NOTICE_MS);
    try {
      return await work;
    } finally {
      stop();
    }
  }

  /** The slow-commit notices armed now (`noticeIfSlow`), stopped with the job's timers. */
  private readonly slowNotices = new Set<() => void>();

  /** Injects barrier n at every source (now, between two batches) and resolves when the checkpoint completed. */
  triggerCheckpoint(savepoint = false): Promise<CheckpointInfo> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.inFlight) return Promise.reject(new CheckpointSkipped(`checkpoint ${this.inFlight.id} is still in progress`));
    // Once every subtask finished, only the final checkpoint (taken by `commitFinal`) follows; another one could
    // complete after the job reported done.
    if (this.isFinished) return Promise.reject(new CheckpointSkipped(`job '${this.jobName}' has finished: no more checkpoints`));
    return this.start(savepoint, false);
  }

  private start(savepoint: boolean, final: boolean): Promise<CheckpointInfo> {
    const id = this.nextCheckpointId++;
    return new Promise<CheckpointInfo>((resolve, reject) => {
      let settle: () => void = () => {};
      const settled = new Promise<void>((r) => (settle = r));
      const startedAt = this.clock.now();
      const p: PendingCheckpoint = {
        id, startedAt, savepoint, final, acks: new Map(), ackedAt: new Map(), resolved: new Set(), expected: this.subtasks.length, settled,
        written: false, aborted: false, cancelTimeout: () => {},
        resolve: (info) => { p.cancelTimeout(); settle(); resolve(info); },
        reject: (e) => { p.cancelTimeout(); settle(); reject(e); },
      };
      this.inFlight = p;
      const timeout = this.plan.config.checkpointTimeoutMs ?? 600_000;
      p.cancelTimeout = this.clock.schedule(startedAt + timeout, () => this.expire(p, timeout));
      try {
        this.injectBarrier(id);
      } catch (e) {
        this.inFlight = undefined;
        p.reject(e);
        this.fail(e);
      }
    });
  }

  /**
   * The timeout of checkpoint `p` passed before it was written: it is aborted (acknowledgements still to come are
   * dropped, but what their sinks pre-committed is kept for the next checkpoint), so that the next one can start.
   */
  private expire(p: PendingCheckpoint, timeoutMs: number): void {
    if (this.inFlight !== p || p.written) return;
    p.aborted = true;
    this.inFlight = undefined;
    this.abortedIds.add(p.id);
    // Acknowledgements that arrived: their committables are kept (all of them arrived: `complete` does it).
    if (p.acks.size < p.expected) for (const [s, ack] of p.acks) this.resolveAck(s, p.id, ack).catch(() => {});
    const missing = this.subtasks.filter((s) => !p.acks.has(s)).map((s) => `${describeSubtask(s.chain, s.index)} (no acknowledgement)`);
    const precommitting = this.subtasks.filter((s) => p.acks.has(s) && !p.resolved.has(s)).map((s) => `${describeSubtask(s.chain, s.index)} (sink pre-commit still running)`);
    const err = checkpointExpired(p.id, this.clock.now() - p.startedAt, timeoutMs, [...missing, ...precommitting]);
    this.log?.(err.message);
    p.reject(err);
  }

  private async complete(p: PendingCheckpoint): Promise<void> {
    try {
      const records = await Promise.all(this.subtasks.map((s) => this.resolveAck(s, p.id, p.acks.get(s)!).then((r) => { p.resolved.add(s); return { ...r, ackMs: (p.ackedAt.get(s) ?? p.startedAt) - p.startedAt }; })));
      // Aborted by the timeout meanwhile: the committables are kept (`resolveAck`) for the next checkpoint.
      if (p.aborted) return;
      const written = await writeCheckpoint(this.storage, this.physical, records, p.id, p.savepoint, this.clock.now(), p.final);
      // Aborted while it was being written: a restore may still find it (it is consistent), but it is not committed
      // here; the next checkpoint holds its committables and commits them.
      if (p.aborted) return;
      p.written = true;
      p.cancelTimeout();
      // Completed: now make the sinks' pre-committed output visible, and tell sources (e.g. commit Kafka offsets).
      // It stays in flight until committed, so that the final commit at end of input comes after it.
      await this.commitLocal(p.id);
      if (this.inFlight === p) this.inFlight = undefined;
      const info: CheckpointInfo = { checkpointId: p.id, path: written.path, durationMs: this.clock.now() - p.startedAt, sizeBytes: written.sizeBytes, states: written.states, final: p.final, subtasks: written.subtasks };
      this.lastCompleted = info;
      this.checkpointsCompleted++;
      this.failures.succeeded();
      p.resolve(info);
    } catch (e) {
      if (this.inFlight === p) this.inFlight = undefined;
      const err = e instanceof CheckpointError ? e : new CheckpointError(`checkpoint ${p.id} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      p.reject(err);
    }
  }

  /** The id of the checkpoint in progress here (in one thread; a worker's are tracked by the coordinator). */
  get checkpointInFlight(): number | undefined {
    return this.inFlight?.id;
  }

  get latestCheckpoint(): CheckpointInfo | undefined {
    return this.lastCompleted;
  }

  /**
   * At the end of a bounded job: every committable a sink pre-committed is committed before this resolves, in
   * checkpoint order, the final cut last. With checkpoint storage, the final cut is committed as part of a final
   * checkpoint (sources at their end, every sink's final cut), written before anything of it is committed, so that a
   * crash at any moment after it restores it and commits the same output again instead of replaying the tail of the
   * input. Without storage, the final cut is committed directly.
   */
  async commitFinal(): Promise<void> {
    await this.settleBeforeFinal();
    if (this.storage) {
      await this.takeFinalCheckpoint();
      await this.finishSinks();
      return;
    }
    // Whatever was pre-committed and not committed yet (a checkpoint that failed to complete): at the end of a bounded
    // job all output is final.
    for (const id of [...this.committables.keys()].sort((a, b) => a - b)) await this.commitLocal(id);
    for (const s of this.sinks) {
      const w = s.sinkWriter!;
      await w.finish?.();
      // The cut taken at end of input; a checkpoint taken after it holds the same committables, and commits are
      // idempotent and queued, so committing them again here is safe.
      const c = (s.finalSink ? (await s.finalSink).committables : w.preCommit ? await w.preCommit(FINAL_CUT) : undefined) ?? [];
      if (c.length > 0) await this.inCommitOrder(async () => { await w.commit?.(c); });
    }
  }

  /**
   * Waits until nothing of the running checkpoints is left: sink writes in flight, a checkpoint still in flight when
   * the input ended (it completes, written then committed, first, so that the final commit never makes output visible
   * that a restore from an earlier checkpoint would write again; on worker threads the coordinator waits for it),
   * pre-commits still running (a checkpoint that failed or was aborted) and queued commits.
   */
  private async settleBeforeFinal(): Promise<void> {
    await this.drainWrites();
    // A failed job rejects the checkpoint in flight but may leave it set while its write runs: waiting on its settled
    // promise again and again would spin without letting that write finish.
    while (this.inFlight && this.failure === undefined) await this.inFlight.settled;
    if (this.failure !== undefined) throw this.failure;
    while (this.resolvingAcks.size > 0) await Promise.all([...this.resolvingAcks]);
    await this.commitQueue;
  }

  /**
   * Takes the final checkpoint once every subtask finished: written, then committed (with the committables of
   * checkpoints that failed). A failed attempt is taken again while `tolerableCheckpointFailures` allows; then the
   * job fails without committing the final cut (a restart restores the last completed checkpoint).
   */
  private async takeFinalCheckpoint(): Promise<CheckpointInfo> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      try {
        return await this.start(false, true);
      } catch (e) {
        if (this.failure !== undefined) throw this.failure;
        const fatal = this.failures.failed(e);
        if (fatal) throw fatal;
        this.log?.(`job '${this.jobName}': the final checkpoint failed (${(e as Error)?.message ?? String(e)}); taking it again (${this.failures.count} failure(s) in a row, ${this.failures.tolerable} tolerated)`);
        await this.settleBeforeFinal();
      }
    }
  }

  /** After the final checkpoint committed every sink's output (on a worker, when the coordinator says so). */
  async finishSinks(): Promise<void> {
    await this.drainWrites();
    await this.commitQueue;
    for (const s of this.sinks) await s.sinkWriter!.finish?.();
  }

  /** Closes readers and writers. */
  async close(): Promise<void> {
    this.stopTimers();
    // A checkpoint still in flight (the job was cancelled) will not complete: its caller hears so.
    const p = this.inFlight;
    if (p) {
      this.inFlight = undefined;
      // Skipped, not failed: a cancel is no checkpoint failure (`tolerableCheckpointFailures`).
      p.reject(new CheckpointSkipped(`checkpoint ${p.id} of job '${this.jobName}' did not complete: the job stopped first`));
    }
    if (!this.abort.signal.aborted) this.abort.abort();
    for (const s of this.sources) await s.reader.close?.();
    for (const s of this.sinks) await s.sinkWriter?.close?.();
  }

  /** Figures per operator and subtask. */
  metrics(): OperatorMetricsRow[] {
    return this.subtasks.map((s) => ({
      uid: s.headNode.uid,
      name: s.chain.nodes.map((n) => n.name).join(' → '),
      subtask: s.index,
      recordsIn: this.sources.find((d) => d.subtask === s)?.recordsRead ?? s.metrics.recordsIn,
      recordsOut: s.metrics.recordsOut,
      batchesIn: s.metrics.batchesIn,
      watermark: s.watermark,
      lateRecordsDropped: s.metrics.lateRecordsDropped,
      lateRecordsToSideOutput: s.metrics.lateRecordsToSideOutput,
      deadLetters: s.metrics.deadLetters,
      busyMs: Math.round(s.metrics.busyMs),
      backpressuredMs: Math.round(s.metrics.backpressuredMs),
      ...checkpointFigures(this.lastCompleted, s.headNode.uid, s.index),
    }));
  }
}

/** The last completed checkpoint's figures for one subtask, as metrics fields (none before the first checkpoint). */
export function checkpointFigures(last: CheckpointInfo | undefined, uid: string, subtask: number): { lastCheckpointAckMs?: number; lastCheckpointBytes?: number } {
  const s = last?.subtasks.find((x) => x.uid === uid && x.subtask === subtask);
  return s ? { lastCheckpointAckMs: s.ackMs, lastCheckpointBytes: s.bytes } : {};
}
