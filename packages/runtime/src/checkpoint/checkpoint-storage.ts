import { serialize, deserialize } from 'node:v8';
import { CheckpointError, type FileSystem } from '@millrace/core';
import type { OperatorSnapshot } from '../operators/operator.js';

/** What one subtask contributed to a checkpoint. */
export interface SubtaskState {
  readonly subtask: number;
  readonly snapshot: OperatorSnapshot;
  /** Sink committables to commit when the checkpoint completes (and again after a restore). */
  readonly committables?: readonly unknown[];
}

/** Per-operator metadata written into `_metadata.json`. */
export interface OperatorMetadata {
  readonly uid: string;
  readonly name: string;
  readonly kind: string;
  readonly parallelism: number;
  readonly file: string;
  readonly state: unknown;
}

/** The `_metadata.json` of a completed checkpoint: written last, so its presence means the checkpoint is complete. */
export interface CheckpointMetadata {
  readonly format: 1 | 2;
  readonly jobName: string;
  readonly checkpointId: number;
  readonly timestamp: number;
  readonly maxParallelism: number;
  readonly savepoint: boolean;
  /**
   * Taken once every subtask of a bounded job finished: sources at their end, every sink's final cut. A restore from
   * it commits that output again (idempotent) and the job ends with nothing new. Absent in older checkpoints.
   */
  readonly final?: boolean;
  readonly operators: readonly OperatorMetadata[];
}

/** A checkpoint read back: metadata and the subtask states of every operator uid. */
export interface LoadedCheckpoint {
  readonly path: string;
  readonly metadata: CheckpointMetadata;
  readonly operators: ReadonlyMap<string, readonly SubtaskState[]>;
}

const META = '_metadata.json';

/**
 * Checkpoints of one job on a {@link FileSystem}: `<dir>/chk-<id>/<uid>.state` per operator (v8 serialization, per
 * key group inside), then `<dir>/chk-<id>/_metadata.json` last. Keeps the newest `retain` checkpoints; savepoints
 * (`<dir>/savepoint-<id>`) are never deleted.
 */
export class CheckpointStorage {
  constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    private readonly retain = 3,
  ) {}

  /**
   * Writes a checkpoint; returns its directory, the bytes of state written, and the bytes of each subtask's state by
   * uid (for the metrics). A file holds one serialized buffer per subtask (format 2), so those sizes cost nothing more.
   */
  async write(meta: Omit<CheckpointMetadata, 'operators' | 'format'>, operators: ReadonlyArray<{ uid: string; name: string; kind: string; parallelism: number; state: unknown; subtasks: readonly SubtaskState[] }>): Promise<{ path: string; bytes: number; subtaskBytes: Map<string, Map<number, number>> }> {
    const path = `${this.dir}/${meta.savepoint ? 'savepoint' : 'chk'}-${meta.checkpointId}`;
    const opsMeta: OperatorMetadata[] = [];
    let bytes = 0;
    const subtaskBytes = new Map<string, Map<number, number>>();
    await Promise.all(
      operators.map(async (op) => {
        const file = `${op.uid}.state`;
        const parts = op.subtasks.map((s) => serialize(s));
        subtaskBytes.set(op.uid, new Map(op.subtasks.map((s, i) => [s.subtask, parts[i]!.length])));
        const data = serialize(parts);
        bytes += data.length;
        await this.fs.writeFile(`${path}/${file}`, data);
        opsMeta.push({ uid: op.uid, name: op.name, kind: op.kind, parallelism: op.parallelism, file, state: op.state });
      }),
    );
    opsMeta.sort((a, b) => a.uid.localeCompare(b.uid));
    const full: CheckpointMetadata = { format: 2, ...meta, operators: opsMeta };
    await this.fs.writeFile(`${path}/${META}`, new TextEncoder().encode(JSON.stringify(full, null, 2)));
    if (!meta.savepoint) await this.prune();
    return { path, bytes, subtaskBytes };
  }

  private async prune(): Promise<void> {
    const ids = await this.completedIds();
    for (const id of ids.slice(0, Math.max(0, ids.length - this.retain))) await this.fs.delete(`${this.dir}/chk-${id}`);
  }

  /** Ids of completed (metadata written) checkpoints, ascending. */
  async completedIds(): Promise<number[]> {
    const names = await this.fs.list(this.dir);
    const ids: number[] = [];
    for (const n of names) {
      const m = /^chk-(\d+)$/.exec(n);
      if (m && (await this.fs.exists(`${this.dir}/${n}/${META}`))) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  /** The newest completed checkpoint, or undefined. */
  async latest(): Promise<LoadedCheckpoint | undefined> {
    const ids = await this.completedIds();
    if (ids.length === 0) return undefined;
    return this.load(`${this.dir}/chk-${ids[ids.length - 1]}`);
  }

  /** Loads a checkpoint or savepoint directory. */
  async load(path: string): Promise<LoadedCheckpoint> {
    let metadata: CheckpointMetadata;
    try {
      metadata = JSON.parse(new TextDecoder().decode(await this.fs.readFile(`${path}/${META}`))) as CheckpointMetadata;
    } catch (e) {
      throw new CheckpointError(`${this.fs.uri}${path} is not a completed checkpoint (no readable ${META}): ${(e as Error).message}`);
    }
    if (metadata.format !== 1 && metadata.format !== 2) {
      throw new CheckpointError(`${this.fs.uri}${path} is in checkpoint format ${String(metadata.format)}, which this version of Millrace cannot read (it reads formats 1 and 2)`);
    }
    const operators = new Map<string, SubtaskState[]>();
    for (const op of metadata.operators) {
      const data = deserialize(await this.fs.readFile(`${path}/${op.file}`)) as unknown[];
      // Format 1 stored the subtask states themselves; format 2 one serialized buffer per subtask.
      operators.set(op.uid, (metadata.format === 1 ? data : data.map((b) => deserialize(b as Uint8Array))) as SubtaskState[]);
    }
    return { path, metadata, operators };
  }
}
