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
