import type { Key, KeySelector, Partitioning } from '@millrace/core';
import { keyGroupOf, subtaskOfKeyGroup } from '../key-groups.js';
import { RecordBatch } from '../record-batch.js';
import type { ChannelMessage, ChannelReceiver } from './channel-message.js';

/** One downstream consumer of an output (main or side) of a subtask. */
export interface RouteTarget {
  readonly partitioning: Partitioning;
  readonly keySelector: KeySelector<unknown, Key> | undefined;
  /** Receivers of the consumer's subtasks, by subtask index. */
  readonly receivers: readonly ChannelReceiver[];
  /** The channel index this producer subtask has at each consumer subtask. */
  readonly channel: number;
}

/**
 * Sends one output of a producer subtask to its consumers, partitioned per edge: batches per target subtask,
 * flushed as a whole. Control messages (watermarks, barriers, end) go to every consumer subtask.
 */
export class Router {
  private readonly buffers: RecordBatch[][];
  private rr = 0;
  private readonly passThrough = new RecordBatch();
  private readonly passMessage: ChannelMessage = { kind: 'batch', batch: this.passThrough };

  constructor(
    readonly targets: readonly RouteTarget[],
    private readonly producerIndex: number,
    private readonly maxParallelism: number,
  ) {
    this.buffers = targets.map((t) => t.receivers.map(() => new RecordBatch()));
  }

  get isEmpty(): boolean {
    return this.targets.length === 0;
  }

  /**
   * Routes a batch. A record whose key selector throws goes to the first consumer subtask, whose keyed step computes
   * the key again and fails it under its own name and error policy (as at parallelism 1).
   */
  send(values: readonly unknown[], timestamps: readonly number[], count: number): void {
    if (count === 0) return;
    for (let ti = 0; ti < this.targets.length; ti++) {
      const t = this.targets[ti]!;
      const bufs = this.buffers[ti]!;
      const n = t.receivers.length;
      if (t.partitioning === 'forward' || n === 1) {
        // One receiver: hand the batch over as it is (receivers copy what they must hold on to).
        const r = t.receivers[t.partitioning === 'forward' ? this.producerIndex % n : 0]!;
        this.passThrough.values = values as unknown[];
        this.passThrough.timestamps = timestamps as number[];
        this.passThrough.length = count;
        r.receive(t.channel, this.passMessage);
      } else if (t.partitioning === 'hash') {
        const key = t.keySelector!;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          let k: Key;
          try {
            k = key(v);
          } catch {
            bufs[0]!.push(v, timestamps[i]!);
            continue;
          }
          bufs[subtaskOfKeyGroup(keyGroupOf(k, this.maxParallelism), n, this.maxParallelism)]!.push(v, timestamps[i]!);
        }
      } else if (t.partitioning === 'rebalance') {
        for (let i = 0; i < count; i++) bufs[this.rr++ % n]!.push(values[i], timestamps[i]!);
      } else {
        for (const b of bufs) for (let i = 0; i < count; i++) b.push(values[i], timestamps[i]!);
      }
    }
    this.flush();
  }

  private flush(): void {
    for (let ti = 0; ti < this.targets.length; ti++) {
      const t = this.targets[ti]!;
      const bufs = this.buffers[ti]!;
      for (let s = 0; s < bufs.length; s++) {
        const b = bufs[s]!;
        if (b.length === 0) continue;
        t.receivers[s]!.receive(t.channel, { kind: 'batch', batch: b });
        b.clear();
      }
    }
  }

  /** Sends a control message to every consumer subtask. */
  broadcast(message: ChannelMessage): void {
    for (const t of this.targets) for (const r of t.receivers) r.receive(t.channel, message);
  }
}
