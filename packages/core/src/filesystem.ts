/**
 * The storage interface checkpoints and file connectors write through: a local directory by default, HDFS in
 * production. Paths are absolute, `/`-separated, relative to the file system's root.
 *
 * Concurrency: implementations are safe to call concurrently for different paths. Idempotency is stated per method.
 */
export interface FileSystem {
  /** A URI naming this file system in messages, e.g. `file:///var/millrace` or `webhdfs://127.0.0.1:9870`. */
  readonly uri: string;
  /** Reads a whole file. Rejects with an error naming the path when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Writes a whole file atomically: readers see either the old content or the new one, never a part (written to a
   * temporary name, then renamed). Creates parent directories. Idempotent.
   */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Names (not paths) of the entries of a directory; `[]` when it does not exist. */
  list(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Renames; rejects when the source is missing or the target exists. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file or, recursively, a directory; does nothing when it does not exist. Idempotent. */
  delete(path: string): Promise<void>;
  mkdirs(path: string): Promise<void>;
}
