import type { AggregateFunction } from './aggregate.js';
import type { Key, KeyedProcessFunction, KeySelector, ProcessFunction, ProcessWindowFunction, WindowResultFunction } from './functions.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';
import type { StateDescriptor } from './state.js';
import type { WatermarkStrategy } from './watermarks.js';
import type { Trigger, Window, WindowAssigner } from './windows.js';

/**
 * How records travel along an edge: `forward` keeps them on the same subtask (and lets the planner fuse the two
 * steps), `hash` routes by key group, `rebalance` spreads round-robin, `broadcast` sends every record everywhere.
 */
export type Partitioning = 'forward' | 'hash' | 'rebalance' | 'broadcast';

/**
 * An input of a plan node. Union and partitioning are properties of edges, not nodes:
 *
 * ```
 *   API:   a.union(b).keyBy(k).window(w)         Plan:  [a] ──hash(k)──┐
 *                                                       [b] ──hash(k)──┴─> [window]
 * ```
 */
export interface PlanEdge {
  /** Id of the producing node. */
  readonly from: number;
  readonly partitioning: Partitioning;
  /** The key selector of a `hash` edge. */
  readonly keySelector?: KeySelector<any, Key>;
  /** Set when the edge carries a side output of `from` (its `OutputTag` id) instead of the main output. */
  readonly sideOutput?: string;
}

/** What a full window function computes. */
export type WindowFunctionSpec =
  | { readonly type: 'aggregate'; readonly aggregate: AggregateFunction<any, any, any>; readonly result?: WindowResultFunction<any, any, any, any> }
  | { readonly type: 'process'; readonly process: ProcessWindowFunction<any, any, any, any> };

/** The kind-specific part of a node. Every function is a user function, called through the runtime's error policy. */
export type NodeSpec =
  | { readonly kind: 'source'; readonly source: Source<any>; readonly watermarks: WatermarkStrategy<any> | undefined }
  | { readonly kind: 'map'; readonly fn: (value: any) => any }
  | { readonly kind: 'filter'; readonly fn: (value: any) => boolean }
  | { readonly kind: 'flatMap'; readonly fn: (value: any) => Iterable<any> }
  | { readonly kind: 'process'; readonly fn: ProcessFunction<any, any> }
  | { readonly kind: 'timestamps'; readonly strategy: WatermarkStrategy<any> }
  | { readonly kind: 'keyed-process'; readonly fn: KeyedProcessFunction<any, any, any, any>; readonly states: Readonly<Record<string, StateDescriptor>> }
  | { readonly kind: 'rolling'; readonly aggregate: AggregateFunction<any, any, any>; readonly result?: (key: any, result: any) => any }
  | {
      readonly kind: 'window';
      readonly assigner: WindowAssigner<Window>;
      readonly trigger: Trigger<Window> | undefined;
      readonly allowedLatenessMs: number;
      readonly lateTag: string | undefined;
      readonly fn: WindowFunctionSpec;
    }
  | { readonly kind: 'sink'; readonly sink: Sink<any> };

/** The kinds of plan nodes. */
export type NodeKind = NodeSpec['kind'];

/** What a step does with a record its user function throws on: fail the job (default) or send it to dead letters. */
export type ErrorPolicy = 'fail' | 'skip';

/**
 * A node of the logical plan: plain data with a deterministic `id` (its position in the job's build order, so every
 * worker that rebuilds the job gets the same ids), a stable `uid` (keys its state in checkpoints), a display `name`,
 * its inputs and its spec.
 */
export interface PlanNode {
  readonly id: number;
  readonly uid: string;
  readonly name: string;
  /** True when the uid was given by the user (required for stateful steps, sources and sinks). */
  readonly uidGiven: boolean;
  readonly spec: NodeSpec;
  readonly inputs: readonly PlanEdge[];
  /** Subtasks for this step; `undefined` = the job's default. */
  readonly parallelism: number | undefined;
  readonly errorPolicy: ErrorPolicy | undefined;
}

/** Nodes that keep keyed or operator state and therefore need a user-given uid. */
export function isStateful(spec: NodeSpec): boolean {
  return spec.kind === 'source' || spec.kind === 'sink' || spec.kind === 'keyed-process' || spec.kind === 'rolling' || spec.kind === 'window';
}

/** Nodes that keep no state and run inside a fused chain's generated loop. */
export function isChainable(spec: NodeSpec): boolean {
  return spec.kind === 'map' || spec.kind === 'filter' || spec.kind === 'flatMap' || spec.kind === 'process' || spec.kind === 'timestamps' || spec.kind === 'sink';
}

/** Settings of a job; `defineJob` options and `millrace run` flags set them. */
export interface JobConfig {
  /** Default subtasks per step. Default 1. */
  readonly parallelism: number;
  /** Number of key groups (Flink's max parallelism): fixed for the life of the job. Default 128. */
  readonly maxParallelism: number;
  /** Records per batch read from a source. Default 1024. */
  readonly batchSize: number;
  /** Take a checkpoint every this many ms of processing time; `undefined` = only on demand. */
  readonly checkpointIntervalMs: number | undefined;
  /** A checkpoint not complete after this many ms is aborted. Default 600 000 (10 minutes). */
  readonly checkpointTimeoutMs: number;
  /** Periodic or final checkpoints that may fail in a row before the job fails. Default 0. */
  readonly tolerableCheckpointFailures: number;
  /** Default error policy of every step. Default `'fail'`. */
  readonly errorPolicy: ErrorPolicy;
}

/** The logical plan of a job: its nodes in build order (inputs always precede their consumers). */
export interface LogicalPlan {
  readonly jobName: string;
  readonly config: JobConfig;
  readonly nodes: readonly PlanNode[];
}
