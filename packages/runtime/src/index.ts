/**
 * @millrace/runtime — executes plans built with @millrace/core: fused chains, keyed state and timers per key group,
 * windows, watermarks, checkpoints with aligned barriers, and the local file system. Depends on @millrace/core only.
 */
export { runJob, formatMetrics, type RunOptions, type JobHandle, type JobResult } from './executor/local-executor.js';
export { JobRuntime, SLOW_COMMIT_NOTICE_MS, type CheckpointInfo, type ConnectorOverrides, type OperatorMetricsRow } from './executor/job-runtime.js';
export { SourceDriver, type SourcePosition } from './executor/source-driver.js';
export { Subtask } from './executor/subtask.js';
export type { ChannelMessage, ChannelReceiver } from './executor/channel-message.js';
export { Router, type RouteTarget } from './executor/routing.js';
export { CheckpointStorage, type CheckpointMetadata, type LoadedCheckpoint, type SubtaskState } from './checkpoint/checkpoint-storage.js';
export { LocalFileSystem } from './local-filesystem.js';
export { SystemClock } from './system-clock.js';
export { jsonLinesFileSink } from './jsonl-file-sink.js';
export { WatermarkValve } from './watermark-valve.js';
export { hashKey, keyGroupOf, keyGroupRange, subtaskOfKeyGroup, type KeyGroupRange } from './key-groups.js';
export { RecordBatch } from './record-batch.js';
export { HeapKeyedStateBackend } from './state/heap-keyed-state.js';
export { InternalTimerService } from './state/timer-service.js';
export type { Operator, OperatorContext, OperatorSnapshot, Output } from './operators/operator.js';
export { KeyedProcessOperator } from './operators/keyed-process-operator.js';
export { WindowOperator } from './operators/window-operator.js';
export { FastWindowOperator } from './operators/fast-window-operator.js';
export { RollingAggregateOperator } from './operators/rolling-operator.js';
export { compileChain } from './operators/chain.js';
