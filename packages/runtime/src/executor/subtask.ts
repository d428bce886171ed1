import { DEAD_LETTERS, MAX_WATERMARK, MIN_WATERMARK, type Clock, type ErrorPolicy, type Key, type KeySelector, type PlanNode, type SinkWriter } from '@millrace/core';
import type { Chain } from '@millrace/core';
import { keyGroupRange, type KeyGroupRange } from '../key-groups.js';
import { compileChain, type CompiledChain } from '../operators/chain.js';
import { FastWindowOperator } from '../operators/fast-window-operator.js';
import { KeyedProcessOperator } from '../operators/keyed-process-operator.js';
import { recordFailureHandler, type Operator, type OperatorContext, type OperatorMetrics, type OperatorSnapshot, type Output } from '../operators/operator.js';
import { RollingAggregateOperator } from '../operators/rolling-operator.js';
import { WindowOperator } from '../operators/window-operator.js';
import { RecordBatch } from '../record-batch.js';
import { WatermarkValve } from '../watermark-valve.js';
import type { ChannelMessage, ChannelReceiver } from './channel-message.js';
import type { Router } from './routing.js';

/** The checkpoint id a sink's final cut at end of input is pre-committed under. */
export const FINAL_CUT = Number.MAX_SAFE_INTEGER;

/** What a subtask reports to the checkpoint coordinator at a barrier. */
export interface SubtaskAck {
  /** State of the chain's head: an operator's keyed state, or a source's position. */
  readonly snapshot: OperatorSnapshot;
  /**
   * The state of the sink writer at the end of the chain, if any (kept apart from the head's); read only once
   * `committables` settled. After end of input it is a promise: the state after the sink's final cut.
   */
  readonly sinkState?: unknown;
  /** Sink committables, possibly still being produced (a sink's pre-commit may do I/O). */
  readonly committables: Promise<readonly unknown[]> | undefined;
}

/** Hooks a subtask calls into its executor. */
export interface SubtaskHost {
  readonly clock: Clock;
  readonly jobName: string;
  readonly maxParallelism: number;
  readonly errorPolicy: ErrorPolicy;
  /** Nodes whose dead letters have a consumer. */
  hasDeadLetterConsumer(node: PlanNode): boolean;
  /** Calls `subtask.onProcessingTime` once the clock reaches `timestamp`. */
  requestProcessingTime(subtask: Subtask, timestamp: number): void;
  /** A barrier passed this subtask. */
  acknowledge(subtask: Subtask, checkpointId: number, ack: SubtaskAck): void;
  /** The subtask saw end of input on all channels and finished. */
  finished(subtask: Subtask): void;
  /** A sink's write returned a promise (backpressure): the sources wait for it before reading on. */
  pending(p: Promise<unknown>): void;
  /** Busy-time accounting shared by the subtasks of this thread. */
  readonly busy: BusyClock;
}

/** Metrics of one subtask. */
export interface SubtaskMetrics extends OperatorMetrics {
  batchesIn: number;
  watermark: number;
  /** Time spent processing this subtask's input, not counting subtasks it called synchronously. */
  busyMs: number;
  /** Time a source subtask waited because its outputs were full (backpressure). */
  backpressuredMs: number;
}

/**
 * Measures busy time per subtask in one thread: a subtask that hands a batch to another in the same thread stops its
 * own clock while the other runs (exclusive time, as Flink reports per task).
 */
export class BusyClock {
  private readonly stack: SubtaskMetrics[] = [];
  private since = 0;
  enter(m: SubtaskMetrics): void {
    const now = performance.now();
    const top = this.stack[this.stack.length - 1];
    if (top) top.busyMs += now - this.since;
    this.stack.push(m);
    this.since = now;
  }
  exit(): void {
    const now = performance.now();
    const top = this.stack.pop();
    if (top) top.busyMs += now - this.since;
    this.since = now;
  }
}

/**
 * One parallel instance of a chain: an optional head operator (keyed process, window, rolling aggregate), the chain's
 * stateless steps as one compiled loop, and an optional sink writer at the end. Receives channel messages, keeps a
 * {@link WatermarkValve} over its input channels, aligns checkpoint barriers (an input that delivered barrier n is
 * held back until every input did), and sends results through routers per output.
 */
export class Subtask implements ChannelReceiver {
  readonly metrics: SubtaskMetrics = { recordsIn: 0, recordsOut: 0, lateRecordsDropped: 0, lateRecordsToSideOutput: 0, deadLetters: 0, batchesIn: 0, watermark: MIN_WATERMARK, busyMs: 0, backpressuredMs: 0 };
  readonly range: KeyGroupRange;
  readonly head: Operator | undefined;
  readonly headNode: PlanNode;
  readonly sinkNode: PlanNode | undefined;
  sinkWriter: SinkWriter<unknown> | undefined;
  private readonly compiled: CompiledChain | undefined;
  private readonly valve: WatermarkValve;
  private readonly ended: boolean[];
  private endedCount = 0;
  private isFinished = false;
  /** Main-output router and side-output routers keyed `${nodeId}:${tag}`. */
  main: Router | undefined;
  readonly sides = new Map<string, Router>();
  private readonly headOut = new RecordBatch();
  private readonly chainOut = new RecordBatch();
  private readonly sideBufs = new Map<string, RecordBatch>();
  // Barrier alignment.
  private aligning: number | undefined;
  private readonly blocked: boolean[];
  private readonly held: Array<[number, ChannelMessage]> = [];
  private readonly receivedBarrier: boolean[];
  readonly ctx: OperatorContext;
  private lastWatermarkOut = MIN_WATERMARK;
  /** Non-keyed state to snapshot at a barrier (a source's position). */
  operatorState: ((checkpointId: number) => unknown) | undefined;
  /** Receives side outputs nobody consumes (test harnesses record them; otherwise they are dropped, as in Flink). */
  unroutedSide: ((tag: string, batch: RecordBatch) => void) | undefined;
  /** The state at end of input, acknowledged by checkpoints taken after the subtask finished. */
  finalSnapshot: OperatorSnapshot = {};
  /**
   * The sink's final cut: taken at end of input once the sink's writes settled, so it holds all the output since the
   * last barrier, with the writer's state right after it. Checkpoints taken after the subtask finished hold both
   * (their source positions are at the end, so a restore never replays that output); the final commit commits it.
   */
  finalSink: Promise<{ readonly committables: readonly unknown[] | undefined; readonly state: unknown }> | undefined;
  /**
   * The newest checkpoint this subtask acknowledged. On worker threads a barrier from another thread can reach it
   * before the coordinator's message injects that barrier on its own thread: it must not acknowledge it again then.
   */
  acknowledged = 0;
  /** Writes of the sink still in flight (a write that returned a promise). */
  private readonly sinkWrites = new Set<Promise<unknown>>();

  constructor(
    readonly chain: Chain,
    readonly index: number,
    readonly channels: number,
    private readonly host: SubtaskHost,
    /** The key selector of the head's hash input, for keyed heads. */
    keySelector: KeySelector<unknown, Key> | undefined,
  ) {
    this.range = keyGroupRange(index, chain.parallelism, host.maxParallelism);
    this.valve = new WatermarkValve(channels);
    this.ended = new Array<boolean>(channels).fill(false);
    this.blocked = new Array<boolean>(channels).fill(false);
    this.receivedBarrier = new Array<boolean>(channels).fill(false);
    const nodes = chain.nodes;
    this.headNode = nodes[0]!;
    const last = nodes[nodes.length - 1]!;
    this.sinkNode = last.spec.kind === 'sink' ? last : undefined;
    const output: Output = {
      emit: (v, t) => this.headOut.push(v, t),
      emitSide: (tag, v, t, from) => this.side(tag, v, t, from ?? this.headNode),
    };
    this.ctx = {
      node: this.headNode,
      jobName: host.jobName,
      subtaskIndex: index,
      parallelism: chain.parallelism,
      maxParallelism: host.maxParallelism,
      keyGroupRange: this.range,
      clock: host.clock,
      output,
      metrics: this.metrics,
      requestProcessingTime: (t) => host.requestProcessingTime(this, t),
      failRecord: recordFailureHandler(host.errorPolicy, output, this.metrics, (n) => host.hasDeadLetterConsumer(n)),
    };
    const k = this.headNode.spec.kind;
    let statelessFrom = 0;
    if (k === 'keyed-process' || k === 'window' || k === 'rolling') {
      if (!keySelector) throw new Error(`step '${this.headNode.name}' needs a keyed input`);
      this.head =
        k === 'keyed-process' ? new KeyedProcessOperator(this.ctx, keySelector)
        : k === 'rolling' ? new RollingAggregateOperator(this.ctx, keySelector)
        : FastWindowOperator.supports(this.headNode.spec) ? new FastWindowOperator(this.ctx, keySelector)
        : new WindowOperator(this.ctx, keySelector);
      statelessFrom = 1;
    } else if (k === 'source') {
      statelessFrom = 1;
    }
    const stateless = nodes.slice(statelessFrom, this.sinkNode ? nodes.length - 1 : nodes.length);
    this.compiled = stateless.length > 0 ? compileChain(stateless, this.ctx, `${chain.nodes[0]!.uid}-${index}`) : undefined;
  }

  get finished(): boolean {
    return this.isFinished;
  }

  /** The watermark that passed this subtask last. */
  get watermark(): number {
    return this.lastWatermarkOut;
  }

  private side(tag: string, value: unknown, timestamp: number, from: PlanNode): void {
    const key = `${from.id}:${tag}`;
    let b = this.sideBufs.get(key);
    if (!b) this.sideBufs.set(key, (b = new RecordBatch()));
    b.push(value, timestamp);
  }

  receive(channel: number, m: ChannelMessage): void {
    const busy = this.host.busy;
    busy.enter(this.metrics);
    try {
      this.dispatch(channel, m);
    } finally {
      busy.exit();
    }
  }

  private dispatch(channel: number, m: ChannelMessage): void {
    if (this.blocked[channel]) {
      this.held.push([channel, m.kind === 'batch' ? { kind: 'batch', batch: copyBatch(m.batch) } : m]);
      return;
    }
    switch (m.kind) {
      case 'batch':
        this.valve.markActive(channel);
        this.onBatch(m.batch.values, m.batch.timestamps, m.batch.length);
        return;
      case 'watermark': {
        const wm = this.valve.update(channel, m.watermark);
        if (wm !== undefined) this.onWatermark(wm);
        return;
      }
      case 'idle': {
        const wm = this.valve.markIdle(channel);
        if (wm !== undefined) this.onWatermark(wm);
        return;
      }
      case 'barrier':
        this.onBarrier(channel, m.checkpointId);
        return;
      case 'end':
        this.onEnd(channel);
        return;
    }
  }

  /** Records entering the chain (after the head operator, or directly for heads without an operator). */
  onBatch(values: readonly unknown[], timestamps: readonly number[], count: number): void {
    this.metrics.batchesIn++;
    if (this.head) {
      this.head.processBatch({ values: values as unknown[], timestamps: timestamps as number[], length: count } as RecordBatch);
      this.flushHead();
    } else {
      this.metrics.recordsIn += count;
      this.runChain(values, timestamps, count);
    }
    this.flushSides();
    if (this.compiled?.watermark) this.emitWatermark(this.compiled.watermark());
  }

  /** Pushes what the head emitted through the rest of the chain. */
  flushHead(): void {
    const b = this.headOut;
    if (b.length === 0) return;
    this.runChain(b.values, b.timestamps, b.length);
    b.clear();
  }

  private runChain(values: readonly unknown[], timestamps: readonly number[], count: number): void {
    let v = values;
    let t = timestamps;
    let n = count;
    if (this.compiled) {
      const out = this.chainOut;
      this.compiled.run(values, timestamps, count, out);
      v = out.values;
      t = out.timestamps;
      n = out.length;
    }
    if (n > 0) {
      if (this.sinkWriter) {
        const r = this.sinkWriter.write(v, t, n);
        if (r && typeof (r as Promise<void>).then === 'function') {
          const p = r as Promise<void>;
          this.host.pending(p);
          this.sinkWrites.add(p);
          const settled = (): void => { this.sinkWrites.delete(p); };
          p.then(settled, settled);
        }
      } else if (this.main) {
        this.main.send(v, t, n);
      }
      if (!this.head) this.metrics.recordsOut += n;
    }
    if (this.compiled) this.chainOut.clear();
  }

  flushSides(): void {
    if (this.sideBufs.size === 0) return;
    for (const [key, b] of this.sideBufs) {
      if (b.length === 0) continue;
      const r = this.sides.get(key);
      if (r) r.send(b.values, b.timestamps, b.length);
      else if (this.unroutedSide) this.unroutedSide(key.slice(key.indexOf(':') + 1), b);
      else if (key.endsWith(`:${DEAD_LETTERS.id}`)) throw new Error(`dead letters of ${key} have no consumer`);
      b.clear();
    }
  }

  /** The combined watermark advanced. */
  onWatermark(wm: number): void {
    if (this.head) {
      this.head.processWatermark(wm);
      this.flushHead();
      this.flushSides();
    }
    this.metrics.watermark = wm;
    // A chain with its own timestamps step generates the watermarks downstream sees (end of input still passes).
    if (this.compiled?.watermark && wm !== MAX_WATERMARK) {
      this.emitWatermark(this.compiled.watermark());
      return;
    }
    this.emitWatermark(wm);
  }

  /** Sends a watermark downstream if it advances. */
  emitWatermark(wm: number): void {
    if (wm <= this.lastWatermarkOut) return;
    this.lastWatermarkOut = wm;
    const msg: ChannelMessage = { kind: 'watermark', watermark: wm };
    this.main?.broadcast(msg);
    for (const r of this.sides.values()) r.broadcast(msg);
  }

  /** Processing time reached a time the head asked for. */
  onProcessingTime(now: number): void {
    if (!this.head?.onProcessingTime || this.isFinished) return;
    this.head.onProcessingTime(now);
    this.flushHead();
    this.flushSides();
  }

  private onBarrier(channel: number, id: number): void {
    if (this.aligning === undefined) {
      this.aligning = id;
      this.receivedBarrier.fill(false);
    } else if (id !== this.aligning) {
      throw new Error(`subtask ${this.headNode.name}#${this.index} got barrier ${id} while aligning ${this.aligning}`);
    }
    this.receivedBarrier[channel] = true;
    this.blocked[channel] = true;
    for (let c = 0; c < this.channels; c++) if (!this.receivedBarrier[c] && !this.ended[c]) return;
    this.aligning = undefined;
    this.checkpoint(id);
    this.blocked.fill(false);
    const held = this.held.splice(0);
    for (const [c, m] of held) this.dispatch(c, m);
  }

  /** Snapshots this subtask at barrier `id` and forwards the barrier. */
  checkpoint(id: number): void {
    const snapshot = this.head?.snapshot() ?? {};
    // The sink cuts its output synchronously in preCommit (later records belong to the next checkpoint), then its
    // state is taken, so that it reflects the cut.
    let committables: Promise<readonly unknown[]> | undefined;
    if (this.sinkWriter?.preCommit) {
      try {
        committables = Promise.resolve(this.sinkWriter.preCommit(id));
      } catch (e) {
        committables = Promise.reject(e);
      }
      committables.catch(() => {});
    }
    const operatorState = this.operatorState?.(id);
    const sinkState = this.sinkWriter?.snapshot?.(id);
    this.acknowledged = Math.max(this.acknowledged, id);
    this.host.acknowledge(this, id, { snapshot: operatorState === undefined ? snapshot : { ...snapshot, operator: operatorState }, sinkState, committables });
    const msg: ChannelMessage = { kind: 'barrier', checkpointId: id };
    this.main?.broadcast(msg);
    for (const r of this.sides.values()) r.broadcast(msg);
  }

  private onEnd(channel: number): void {
    if (this.ended[channel]) return;
    this.ended[channel] = true;
    this.endedCount++;
    const wm = this.valve.finish(channel);
    if (wm !== undefined) this.onWatermark(wm);
    if (this.aligning !== undefined) {
      // An input that ended no longer holds the barrier back.
      let done = true;
      for (let c = 0; c < this.channels; c++) if (!this.receivedBarrier[c] && !this.ended[c]) done = false;
      if (done) this.onBarrier(channel, this.aligning);
    }
    if (this.endedCount === this.channels) this.finish();
  }

  /** All inputs ended (or, for a source, the reader did): fire what is left and pass end of input on. */
  finish(): void {
    if (this.isFinished) return;
    if (this.head?.endInput) {
      this.head.endInput();
      this.flushHead();
      this.flushSides();
    }
    this.isFinished = true;
    // What later checkpoints record for this subtask (a finished source keeps its end position, so a restore does not replay it).
    const snapshot = this.head?.snapshot() ?? {};
    const operatorState = this.operatorState?.(0);
    this.finalSnapshot = operatorState === undefined ? snapshot : { ...snapshot, operator: operatorState };
    if (this.sinkWriter) this.finalSink = this.cutFinal(this.sinkWriter);
    const msg: ChannelMessage = { kind: 'end' };
    this.main?.broadcast(msg);
    for (const r of this.sides.values()) r.broadcast(msg);
    this.host.finished(this);
  }

  /**
   * Pre-commits what the sink wrote since the last barrier, once its writes in flight settled (a write returning a
   * promise may take its records only then); nothing is written to it after end of input.
   */
  private cutFinal(w: SinkWriter<unknown>): Promise<{ committables: readonly unknown[] | undefined; state: unknown }> {
    const cut = Promise.allSettled([...this.sinkWrites]).then(async () => {
      const committables = w.preCommit ? Promise.resolve(w.preCommit(FINAL_CUT)) : undefined;
      const state = w.snapshot?.(FINAL_CUT);
      return { committables: await committables, state };
    });
    cut.catch(() => {});
    return cut;
  }

  /**
   * Acknowledges barrier `id` after end of input: the state at end of input and the sink's final cut. Not when it
   * already acknowledged `id` at the barrier itself: a second acknowledgement would replace the committables of the
   * first (what the sink pre-committed at that barrier) by the final cut, and that output would never be committed.
   */
  acknowledgeFinished(id: number): void {
    if (id <= this.acknowledged) return;
    this.acknowledged = id;
    const sink = this.finalSink;
    const sinkState = sink?.then((x) => x.state);
    sinkState?.catch(() => {});
    const committables = this.sinkWriter?.preCommit ? sink?.then((x) => x.committables ?? []) : undefined;
    committables?.catch(() => {});
    this.host.acknowledge(this, id, { snapshot: this.finalSnapshot, sinkState, committables });
  }
}

function copyBatch(b: RecordBatch): RecordBatch {
  const c = new RecordBatch();
  c.values = b.values.slice(0, b.length);
  c.timestamps = b.timestamps.slice(0, b.length);
  c.length = b.length;
  return c;
}
