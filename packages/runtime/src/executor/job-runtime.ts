import {
  CheckpointError, DEAD_LETTERS, physicalPlan,
  type Clock, type Key, type KeySelector, type LogicalPlan, type PhysicalPlan, type PlanNode, type Sink, type Source, type SourceReader,
} from '@millrace/core';
import type { CheckpointStorage, LoadedCheckpoint, SubtaskState } from '../checkpoint/checkpoint-storage.js';
import { Router, type RouteTarget } from './routing.js';
import { SourceDriver, type SourcePosition } from './source-driver.js';
import { Subtask, type SubtaskAck, type SubtaskHost } from './subtask.js';

/** Replaces sources and sinks by uid (test drivers swap in in-memory ones). */
export interface ConnectorOverrides {
  readonly sources?: ReadonlyMap<string, Source<unknown>>;
  readonly sinks?: ReadonlyMap<string, Sink<unknown>>;
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
}

interface PendingCheckpoint {
  readonly id: number;
  readonly startedAt: number;
  readonly savepoint: boolean;
  readonly acks: Map<Subtask, SubtaskAck>;
  readonly expected: number;
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
  private unfinished: number;
  private failure: unknown;
  private lastCompleted: CheckpointInfo | undefined;
  readonly abort = new AbortController();
  onFinished: (() => void) | undefined;
  onFailure: ((e: unknown) => void) | undefined;
  checkpointsCompleted = 0;

  constructor(
    readonly plan: LogicalPlan,
    readonly clock: Clock,
    private readonly storage: CheckpointStorage | undefined,
    overrides: ConnectorOverrides = {},
  ) {
    this.physical = physicalPlan(plan);
    this.jobName = plan.jobName;
    this.maxParallelism = plan.config.maxParallelism;
    this.errorPolicy = plan.config.errorPolicy;
    for (const n of plan.nodes) for (const e of n.inputs) if (e.sideOutput === DEAD_LETTERS.id) this.dlProducers.add(e.from);

    const byChain: Subtask[][] = [];
    for (const chain of this.physical.chains) {
      const channels = chain.inputs.reduce((s, i) => s + this.physical.chains[i.fromChain]!.parallelism, 0);
      const keyed = chain.inputs.find((i) => i.edge.partitioning === 'hash')?.edge.keySelector as KeySelector<unknown, Key> | undefined;
      const subs: Subtask[] = [];
      for (let i = 0; i < chain.parallelism; i++) subs.push(new Subtask(chain, i, channels, this, keyed));
      byChain.push(subs);
      this.subtasks.push(...subs);
    }
    // Wire routers: for every consumer chain input, add a target to the producer subtasks' router of that output.
    const targets = new Map<string, RouteTarget[]>(); // `${producerSubtaskId}|${nodeId}:${tag?}` → targets
    const subId = new Map<Subtask, number>(this.subtasks.map((s, i) => [s, i]));
    for (const chain of this.physical.chains) {
      let offset = 0;
      for (const input of chain.inputs) {
        const producers = byChain[input.fromChain]!;
        producers.forEach((p, pi) => {
          const key = `${subId.get(p)}|${input.edge.from}${input.edge.sideOutput !== undefined ? `:${input.edge.sideOutput}` : ''}`;
          let l = targets.get(key);
          if (!l) targets.set(key, (l = []));
          l.push({ partitioning: input.edge.partitioning, keySelector: input.edge.keySelector as KeySelector<unknown, Key> | undefined, receivers: byChain[chain.id]!, channel: offset + pi });
        });
        offset += producers.length;
      }
    }
    for (const s of this.subtasks) {
      const last = s.chain.nodes[s.chain.nodes.length - 1]!;
      s.main = new Router(targets.get(`${subId.get(s)}|${last.id}`) ?? [], s.index, this.maxParallelism);
      for (const n of s.chain.nodes) {
        for (const [key, t] of targets) {
          const prefix = `${subId.get(s)}|${n.id}:`;
          if (key.startsWith(prefix)) s.sides.set(`${n.id}:${key.slice(prefix.length)}`, new Router(t, s.index, this.maxParallelism));
        }
      }
    }
    // Sources and sinks.
    for (const s of this.subtasks) {
      const head = s.headNode;
      if (head.spec.kind === 'source') {
        const source = overrides.sources?.get(head.uid) ?? head.spec.source;
        const reader: SourceReader<unknown> = source.createReader({ jobName: this.jobName, uid: head.uid, subtaskIndex: s.index, parallelism: s.chain.parallelism, clock, signal: this.abort.signal });
        this.sources.push(new SourceDriver(s, source, reader, head.spec.watermarks));
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
    const p = this.inFlight;
    if (!p || p.id !== checkpointId) return;
    p.acks.set(subtask, ack);
    if (p.acks.size === p.expected) void this.complete(p);
  }
  finished(): void {
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
    }
    const known = new Set(this.plan.nodes.map((n) => n.uid));
    const unknown = [...states.keys()].filter((u) => !known.has(u));
    if (unknown.length > 0) {
      throw new CheckpointError(`the checkpoint has state for uid(s) ${unknown.map((u) => `'${u}'`).join(', ')}, which the job no longer has: restore into a job with those uids, or drop their state on purpose`);
    }
    for (const s of this.subtasks) {
      const head = s.headNode;
      const headStates = states.get(head.uid);
      if (headStates && s.head) s.head.restore(headStates.map((x) => x.snapshot));
      const src = this.sources.find((d) => d.subtask === s);
      if (src && headStates) {
        const mine = headStates.find((x) => x.subtask === s.index);
        if (headStates.length !== s.chain.parallelism && !src.source.rescalable) {
          throw new CheckpointError(`source '${head.name}' (uid '${head.uid}') was checkpointed at parallelism ${headStates.length} and now runs at ${s.chain.parallelism}: this source (${src.source.description}) cannot move its position between subtasks; restore at parallelism ${headStates.length}`);
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
        if (all.length > 0) await s.sinkWriter.commit?.(all);
      }
    }
  }

  /** Injects barrier n at every source (now, between two batches) and resolves when the checkpoint completed. */
  triggerCheckpoint(savepoint = false): Promise<CheckpointInfo> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.inFlight) return Promise.reject(new CheckpointError(`checkpoint ${this.inFlight.id} is still in progress`));
    const id = this.nextCheckpointId++;
    return new Promise<CheckpointInfo>((resolve, reject) => {
      const p: PendingCheckpoint = { id, startedAt: this.clock.now(), savepoint, acks: new Map(), expected: this.subtasks.length, resolve, reject };
      this.inFlight = p;
      // Finished subtasks have no state left to contribute; they acknowledge at once.
      for (const s of this.subtasks) if (s.finished) p.acks.set(s, { snapshot: s.finalSnapshot, sinkState: s.finalSinkState, committables: undefined });
      try {
        for (const src of this.sources) if (!src.subtask.finished) src.subtask.checkpoint(id);
      } catch (e) {
        this.inFlight = undefined;
        reject(e);
        this.fail(e);
        return;
      }
      if (p.acks.size === p.expected) void this.complete(p);
    });
  }

  private async complete(p: PendingCheckpoint): Promise<void> {
    try {
      const byUid = new Map<string, { node: PlanNode; parallelism: number; state: unknown; subtasks: SubtaskState[] }>();
      for (const s of this.subtasks) {
        const ack = p.acks.get(s)!;
        const committables = ack.committables ? await ack.committables : undefined;
        const add = (node: PlanNode, snapshot: SubtaskState['snapshot'], c?: readonly unknown[]): void => {
          let e = byUid.get(node.uid);
          if (!e) byUid.set(node.uid, (e = { node, parallelism: s.chain.parallelism, state: s.head?.describeState?.() ?? null, subtasks: [] }));
          e.subtasks.push({ subtask: s.index, snapshot, ...(c ? { committables: c } : {}) });
        };
        const sinkPart = ack.sinkState === undefined ? {} : { operator: ack.sinkState };
        if (s.sinkNode && s.sinkNode !== s.headNode) {
          add(s.headNode, ack.snapshot);
          add(s.sinkNode, sinkPart, committables);
        } else if (s.sinkNode) {
          add(s.sinkNode, sinkPart, committables);
        } else {
          add(s.headNode, ack.snapshot);
        }
      }
      for (const [uid, e] of byUid) if (e.subtasks.every((x) => x.snapshot.keyed === undefined && x.snapshot.operator === undefined && !x.committables)) byUid.delete(uid);
      let path: string | undefined;
      let sizeBytes = 0;
      if (this.storage) {
        path = await this.storage.write(
          { jobName: this.jobName, checkpointId: p.id, timestamp: this.clock.now(), maxParallelism: this.maxParallelism, savepoint: p.savepoint },
          [...byUid.values()].map((e) => ({ uid: e.node.uid, name: e.node.name, kind: e.node.spec.kind, parallelism: e.parallelism, state: e.state, subtasks: e.subtasks })),
        );
        sizeBytes = [...byUid.values()].reduce((n, e) => n + JSON.stringify(e.subtasks, (_k, v) => (v instanceof Map ? [...v] : v)).length, 0);
      }
      const states = new Map([...byUid].map(([uid, e]) => [uid, e.subtasks]));
      if (this.inFlight === p) this.inFlight = undefined;
      // Completed: now make the sinks' pre-committed output visible, and tell sources (e.g. commit Kafka offsets).
      for (const s of this.sinks) {
        const ack = p.acks.get(s)!;
        const c = ack.committables ? await ack.committables : [];
        if (c.length > 0) await s.sinkWriter?.commit?.(c);
      }
      for (const src of this.sources) await src.reader.notifyCheckpointComplete?.(p.id);
      const info: CheckpointInfo = { checkpointId: p.id, path, durationMs: this.clock.now() - p.startedAt, sizeBytes, states };
      this.lastCompleted = info;
      this.checkpointsCompleted++;
      p.resolve(info);
    } catch (e) {
      if (this.inFlight === p) this.inFlight = undefined;
      const err = e instanceof CheckpointError ? e : new CheckpointError(`checkpoint ${p.id} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      p.reject(err);
    }
  }

  get latestCheckpoint(): CheckpointInfo | undefined {
    return this.lastCompleted;
  }

  /** At the end of a bounded job: sinks flush, pre-commit and commit what is left. */
  async commitFinal(): Promise<void> {
    await this.drainWrites();
    for (const s of this.sinks) {
      const w = s.sinkWriter!;
      await w.finish?.();
      const c = w.preCommit ? await w.preCommit(Number.MAX_SAFE_INTEGER) : [];
      if (c.length > 0) await w.commit?.(c);
    }
  }

  /** Closes readers and writers. */
  async close(): Promise<void> {
    this.stopTimers();
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
    }));
  }
}
