import type { JobOptions, LogicalPlan } from '@millrace/core';
import type { MessagePort } from 'node:worker_threads';
import type { AckRecord, OperatorMetricsRow } from '../executor/job-runtime.js';
import type { SubtaskState } from '../checkpoint/checkpoint-storage.js';
import type { EncodedValues } from './batch-codec.js';

/**
 * Messages between the coordinator (main thread) and the workers, and between workers. Record batches, watermarks,
 * barriers, idleness and end of input travel worker to worker on one port per pair of workers, in order per channel;
 * the coordinator never sees records (except those of `sinks.collect()`, relayed to it).
 */

/** What each worker's long-lived task receives. */
export interface SlotTask {
  readonly slot: number;
  readonly workers: number;
  readonly moduleUrl: string;
  readonly overrides: JobOptions;
  /** A fingerprint of the coordinator's plan; the worker's must be equal. */
  readonly fingerprint: string;
  /** Batches a sender may have in flight per channel before it waits (backpressure). */
  readonly credits: number;
  readonly control: MessagePort;
  /** `links[w]` talks to worker w (`null` for the worker itself). */
  readonly links: ReadonlyArray<MessagePort | null>;
}

/** Coordinator → worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly restore: ReadonlyMap<string, readonly SubtaskState[]> | undefined }
  /** Every worker restored: sources may start reading. */
  | { readonly type: 'run' }
  | { readonly type: 'checkpoint'; readonly id: number }
  /**
   * Checkpoint `id` is written: `sinks` commits the sinks' pre-committed output; `sources` then tells the sources (e.g.
   * commit Kafka offsets to the group). Two rounds, so that no source reports progress for output of the checkpoint
   * that a sink on another worker has not committed yet.
   */
  | { readonly type: 'commit'; readonly id: number; readonly phase: 'sinks' | 'sources' }
  /**
   * Every subtask finished: sinks finish. `committed`: the final checkpoint committed every sink's final cut already;
   * otherwise (no checkpoint storage) the workers commit what is left, the final cuts last.
   */
  | { readonly type: 'finish'; readonly committed: boolean }
  /** Report metrics now. */
  | { readonly type: 'metrics' }
  | { readonly type: 'cancel' };

/** A failure, as data. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly step?: string;
  readonly uid?: string;
  readonly timestamp?: number;
  readonly value?: unknown;
  readonly context?: string;
  readonly cause?: { name: string; message: string; stack: string | undefined };
}

/** Worker → coordinator. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'restored' }
  | { readonly type: 'ack'; readonly id: number; readonly record: AckRecord }
  | { readonly type: 'committed'; readonly id: number; readonly phase: 'sinks' | 'sources' }
  | { readonly type: 'subtask-finished'; readonly chain: number; readonly index: number }
  | { readonly type: 'final-committed' }
  | { readonly type: 'metrics'; readonly rows: OperatorMetricsRow[]; readonly recordsRead: number; readonly inFlight: number }
  | { readonly type: 'collect'; readonly uid: string; readonly values: unknown[]; readonly timestamps: number[] }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'failed'; readonly error: ErrorData };

/** Worker ↔ worker: a channel message for a subtask, or a credit back to its sender. */
export type LinkMessage =
  | { readonly t: 'b'; readonly to: number; readonly ch: number; readonly v: EncodedValues; readonly ts: Float64Array }
  | { readonly t: 'w'; readonly to: number; readonly ch: number; readonly wm: number }
  | { readonly t: 'i'; readonly to: number; readonly ch: number }
  | { readonly t: 'r'; readonly to: number; readonly ch: number; readonly id: number }
  | { readonly t: 'e'; readonly to: number; readonly ch: number }
  | { readonly t: 'c'; readonly to: number; readonly ch: number };

/** A number naming subtask `index` of chain `chain`, unique within a job. */
export function subtaskKey(chain: number, index: number): number {
  return chain * 65_536 + index;
}

/** The worker that runs subtask `index` (of any chain): subtasks spread round-robin over the workers. */
export function workerOf(index: number, workers: number): number {
  return index % workers;
}

/** What must be equal for a worker to run the coordinator's plan: steps, uids, kinds, edges, parallelism. */
export function planFingerprint(plan: LogicalPlan): string {
  return JSON.stringify([
    plan.jobName,
    plan.config.parallelism,
    plan.config.maxParallelism,
    plan.nodes.map((n) => [n.id, n.uid, n.name, n.spec.kind, n.parallelism ?? null, n.inputs.map((e) => [e.from, e.partitioning, e.sideOutput ?? null])]),
  ]);
}

/** Explains the first difference between two fingerprints, naming the step. */
export function fingerprintDifference(main: string, worker: string): string {
  const a = JSON.parse(main) as [string, number, number, unknown[][]];
  const b = JSON.parse(worker) as [string, number, number, unknown[][]];
  if (a[0] !== b[0]) return `the job is named '${a[0]}' on the main thread but '${b[0]}' in the worker`;
  if (a[1] !== b[1] || a[2] !== b[2]) return `parallelism or key groups differ (${a[1]}/${a[2]} vs ${b[1]}/${b[2]})`;
  const n = Math.max(a[3].length, b[3].length);
  for (let i = 0; i < n; i++) {
    const x = a[3][i];
    const y = b[3][i];
    if (JSON.stringify(x) !== JSON.stringify(y)) {
      const describe = (s: unknown[] | undefined): string => (s ? `'${s[2]}' (${s[3]}, uid '${s[1]}')` : 'missing');
      return `step #${i + 1} is ${describe(x)} on the main thread but ${describe(y)} in the worker`;
    }
  }
  return 'the plans differ';
}

/** Turns an error into data that survives structured clone. */
export function errorData(e: unknown): ErrorData {
  const err = e instanceof Error ? e : new Error(String(e));
  const x = err as Error & { step?: string; uid?: string; timestamp?: number; value?: unknown; context?: string };
  let value: unknown = x.value;
  try {
    structuredClone(value);
  } catch {
    value = String(value);
  }
  const cause = err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message, stack: err.cause.stack } : undefined;
  return {
    name: err.name, message: err.message, stack: err.stack,
    ...(x.step !== undefined ? { step: x.step, uid: x.uid, timestamp: x.timestamp, value, context: x.context } : {}),
    ...(cause ? { cause } : {}),
  };
}
