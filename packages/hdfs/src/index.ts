/**
 * @packageDocumentation
 * `@millrace/hdfs`: files for Millrace jobs.
 *
 * - File systems: {@link WebHdfsFileSystem} (typed WebHDFS client on node:http) and {@link LocalFileStore}, both
 *   {@link FileStore}s and so usable as checkpoint storage (`runJob(job, { checkpoints: { fs, dir } })`).
 * - Errors: {@link HdfsError} with a code (`not-found`, `permission`, `safe-mode`, `lease`, …), the path and a hint.
 *
 * Depends on @millrace/core's SPI, @millrace/avro and lru-cache; never on the runtime.
 */
export { HdfsError, fromRemoteException, isNotFound, type HdfsErrorCode } from './errors.js';
export type { FileStatus, FileStore, FileWriteStream } from './file-store.js';
export { WebHdfsFileSystem, type WebHdfsOptions } from './webhdfs-filesystem.js';
export { LocalFileStore } from './local-file-store.js';
export { fileSink, type FileSinkOptions, type PartFileInfo, type RollingPolicy } from './file-sink.js';
export { avroFormat, jsonLinesFormat, type FileFormat, type PartEncoder } from './file-format.js';
export { eventTimeBuckets, fieldBuckets, type BucketAssigner } from './buckets.js';
export { walkFiles } from './walk.js';
export { fileSource, type FileSourceOptions, type SkippedSplit } from './file-source.js';
export { avroInput, jsonLinesInput, type FileInputFormat, type SplitReader } from './split-readers.js';
export { planSplits, type FileSplit, type PlanSplitsOptions } from './file-split.js';
export { PathPattern, parsePartitionFilter, checkPartitionFilter, partitionFilterText, partitionMatches, partitionsOf, type PartitionFilter } from './path-pattern.js';
export { ProgressReporter } from './progress.js';
export { kafkaConnectLayout } from './kafka-connect-layout.js';
