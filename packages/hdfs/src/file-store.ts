import type { FileSystem } from '@millrace/core';

/** What a {@link FileStore} knows about a file or directory. */
export interface FileStatus {
  /** Absolute path. */
  readonly path: string;
  readonly type: 'file' | 'directory';
  /** Bytes (0 for directories). */
  readonly length: number;
  /** Last modification, milliseconds since the epoch. */
  readonly modificationTime: number;
}

/** A file being written as a stream: `write` chunks in order, then `close` (or `abort`). */
export interface FileWriteStream {
  /** Sends a chunk; resolves when the stream can take more (backpressure). */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the file and resolves when it is durably closed (WebHDFS: the DataNode answered 201). */
  close(): Promise<void>;
  /** Drops the connection; the partial file stays (the sink removes it on restore). */
  abort(): void;
  /** Bytes written so far. */
  readonly bytes: number;
}

/**
 * The {@link FileSystem} of @millrace/core (so it serves as checkpoint storage) plus what file connectors need:
 * statuses, listings, streamed writes and ranged reads. Implemented for a local directory and for WebHDFS.
 */
export interface FileStore extends FileSystem {
  /** The status of a path, or `undefined` when it does not exist. */
  status(path: string): Promise<FileStatus | undefined>;
  /** The entries of a directory with their statuses, sorted by name; `[]` when it does not exist. */
  listStatus(path: string): Promise<FileStatus[]>;
  /** `length` bytes from `offset` (fewer at the end of the file). */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Creates a file (parents too) and streams into it. Fails when it exists unless `overwrite`. */
  createStream(path: string, opts?: { overwrite?: boolean }): FileWriteStream;
}
