import { LRUCache } from 'lru-cache';
import type { Sink, SinkWriter, SinkWriterContext } from '@millrace/core';
import { checkBucket, type BucketAssigner } from './buckets.js';
import type { FileFormat, PartEncoder } from './file-format.js';
import type { FileStore, FileWriteStream } from './file-store.js';
import { AvroError } from '@millrace/avro';
import { HdfsError } from './errors.js';
import { requireOptions } from './options.js';
import { walkFiles } from './walk.js';

/** What a {@link FileSinkOptions.fileName} function gets to name a final part file. */
export interface PartFileInfo<T> {
  /** The bucket directory, relative to the sink's path. */
  readonly bucket: string;
  readonly subtask: number;
  /** The part counter of this subtask (increases across buckets and restarts). */
  readonly part: number;
  /** First and last record written to the file. */
  readonly first: T;
  readonly last: T;
  readonly count: number;
  /** The format's extension, with the dot. */
  readonly extension: string;
}

/** When an open part file is closed before the next checkpoint closes it anyway. */
export interface RollingPolicy {
  /** Close a part file once it holds this many bytes (default 128 MiB). */
  readonly maxBytes?: number;
  /**
   * Close a part file this many milliseconds of processing time after it was opened (default: never before the
   * checkpoint). It is closed when the time comes, whether records arrive or not.
   */
  readonly maxAgeMs?: number;
  /** Close a part file that received nothing for this many milliseconds of processing time (default 60 s). */
  readonly inactivityMs?: number;
}

/** Options of {@link fileSink}. */
export interface FileSinkOptions<T> {
  /** Where files go: a {@link WebHdfsFileSystem} or a {@link LocalFileStore}. */
  readonly fs: FileStore;
  /** Base directory, absolute on `fs`, e.g. `/data/readings`. */
  readonly path: string;
  /** `avroFormat(schema)` or `jsonLinesFormat()`. */
  readonly format: FileFormat<T>;
  /** Bucket directory per record, e.g. `eventTimeBuckets()` (`dt=…/hour=…`) or `fieldBuckets('device')`. Default: none. */
  readonly buckets?: BucketAssigner<T>;
  /** Size, age and inactivity rolling; files are always closed at a checkpoint. */
  readonly rolling?: RollingPolicy;
  /**
   * Open part files per subtask at most; the least recently written is closed first (default 16). Also the limit
   * of streams open on the file system: a new part file is created once the one it evicted is closed.
   */
  readonly maxOpenFiles?: number;
  /** Prefix of part file names (default `part`). Sinks writing into the same directory need different prefixes. */
  readonly prefix?: string;
  /**
   * The final name of a part file (without directory), e.g. for Kafka Connect's layout. Default
   * `<prefix>-<subtask>-<part><extension>`. Names must be unique; in-progress and pending names stay the sink's own.
   */
  readonly fileName?: (info: PartFileInfo<T>) => string;
  /** Where the sink says what it cleaned up after a crash; default stderr. */
  readonly log?: (message: string) => void;
}

/** A pending part file made final when its checkpoint completes. */
interface Committable { readonly pending: string; readonly final: string }

interface OpenPart<T> {
  readonly bucket: string;
  /** This writer's part index; the file's number is `base + k` once the clean-up has found `base`. */
  readonly k: number;
  readonly stream: FileWriteStream;
  readonly encoder: PartEncoder<T>;
  readonly openedAt: number;
  lastWrite: number;
  first: T | undefined;
  last: T | undefined;
  count: number;
  chain: Promise<void>;
  batch: T[];
}

interface ClosedPart<T> { readonly part: OpenPart<T>; readonly done: Promise<void> }

const IN_PROGRESS = '.inprogress';
const PENDING = '.pending';
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

/**
 * A file sink, exactly once with checkpoints, for HDFS (WebHDFS) and local directories.
 *
 * Records go to part files per bucket (`buckets`), written as `.<prefix>-<subtask>-<n><ext>.inprogress` while
 * open (streamed to HDFS as they are encoded). A part is closed when it reaches the rolling policy's size or age,
 * after inactivity, when more than `maxOpenFiles` are open (least recently written first), and always at a
 * checkpoint barrier; at the barrier closed parts are renamed `.….pending`, and when the checkpoint completes they
 * get their final name. Names starting with a dot are hidden from Hadoop, Hive and Spark, so readers never see a
 * partial file under a final name.
 *
 * After a crash (even SIGKILL) the restored job commits the pending files of the last completed checkpoint, then
 * removes what the crashed run left (in-progress and pending files of its subtasks, and final files numbered after
 * the restored checkpoint), and logs what it removed. Nobody deletes files by hand.
 */
export function fileSink<T>(opts: FileSinkOptions<T>): Sink<T> {
  requireOptions('fileSink', opts, ['fs', 'path', 'format'], "{ fs: new WebHdfsFileSystem({ url }), path: '/data/readings', format: avroFormat(schema) }");
  const base = opts.path.replace(/\/+$/, '');
  if (!base.startsWith('/')) throw new HdfsError('invalid', `fileSink path must be absolute on ${opts.fs.uri}, got '${opts.path}'`, opts.path);
  const prefix = opts.prefix ?? 'part';
  const ext = opts.format.extension;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.]*$/.test(prefix)) throw new HdfsError('invalid', `fileSink prefix '${prefix}' may hold letters, digits, '_' and '.' only`, opts.path);
  return {
    description: `fileSink(${opts.fs.uri}${base}, ${opts.format.description})`,
    createWriter: (ctx) => new FileSinkWriter(opts, base, prefix, ext, ctx),
  };
}

class FileSinkWriter<T> implements SinkWriter<T, Committable> {
  private readonly open: LRUCache<string, OpenPart<T>>;
  private closed: ClosedPart<T>[] = [];
  /** Parts opened by this writer; file numbers are `base + k`. */
  private k = 0;
  private first: number | undefined;
  private snap: { next: number } = { next: -1 };
  private restoredNext: number | undefined;
  private started: Promise<void> | undefined;
  private failure: unknown;
  private inFlight = 0;
  private cancelCheck: (() => void) | undefined;
  /** When the pending roll check runs (Infinity: none pending). */
  private checkAt = Infinity;
  /** Streams that may still be opened: a part holds one from its opening until its file is closed. */
  private slotsFree: number;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly maxBytes: number;
  private readonly maxAge: number;
  private readonly inactivity: number;
  private readonly log: (m: string) => void;
  private readonly partRe: RegExp;

  constructor(
    private readonly opts: FileSinkOptions<T>,
    private readonly base: string,
    private readonly prefix: string,
    private readonly ext: string,
    private readonly ctx: SinkWriterContext,
  ) {
    this.maxBytes = opts.rolling?.maxBytes ?? 128 * 1024 * 1024;
    this.maxAge = opts.rolling?.maxAgeMs ?? Infinity;
    this.inactivity = opts.rolling?.inactivityMs ?? 60_000;
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
    const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.partRe = new RegExp(`^(\\.)?${esc(prefix)}-(\\d+)-(\\d+)${esc(ext)}(${esc(IN_PROGRESS)}|${esc(PENDING)})?$`);
    this.slotsFree = opts.maxOpenFiles ?? 16;
    this.open = new LRUCache<string, OpenPart<T>>({
      max: opts.maxOpenFiles ?? 16,
      // An evicted part may hold records of the batch being written (its bucket was written earlier in the same
      // batch): they go into it before it is closed.
      dispose: (part, _key, reason) => { if (reason === 'evict') { this.flushBatch(part, this.ctx.clock.now()); this.roll(part); } },
    });
  }

  private dir(bucket: string): string { return bucket ? `${this.base}/${bucket}` : this.base; }

  /** Cleans up after earlier runs once, before the first file of this run is created. */
  private start(): Promise<void> {
    this.started ??= this.cleanUp().catch((e) => { this.failure ??= e; throw e; });
    return this.started;
  }

  private async cleanUp(): Promise<void> {
    const { subtaskIndex: sub, parallelism: p } = this.ctx;
    const removed: string[] = [];
    let maxFinal = -1;
    for (const f of await walkFiles(this.opts.fs, this.base)) {
      const name = f.slice(f.lastIndexOf('/') + 1);
      const m = this.partRe.exec(name);
      if (!m) continue;
      const owner = Number(m[2]);
      const n = Number(m[3]);
      const hidden = m[1] === '.' && m[4] !== undefined;
      if (owner % p !== sub) continue;
      if (hidden) {
        // After the restore's commit, in-progress and pending files of this subtask's share are left-overs.
        await this.opts.fs.delete(f);
        removed.push(f);
      } else if (m[1] === undefined && m[4] === undefined && owner === sub) {
        if (this.restoredNext !== undefined && n >= this.restoredNext) {
          // Final, yet numbered after the restored checkpoint: written by a run this restore rolls back.
          await this.opts.fs.delete(f);
          removed.push(f);
        } else if (n > maxFinal) maxFinal = n;
      }
    }
    this.first = Math.max(this.restoredNext ?? 0, maxFinal + 1);
    if (removed.length > 0) {
      const shown = removed.slice(0, 5).join(', ') + (removed.length > 5 ? `, … (${removed.length - 5} more)` : '');
      this.log(`[millrace] ${this.ctx.uid}#${sub}: file sink ${this.opts.fs.uri}${this.base}: removed ${removed.length} part file(s) an earlier run left unfinished or wrote after the restored checkpoint: ${shown}`);
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private openPart(bucket: string, now: number): OpenPart<T> {
    try { checkBucket(bucket); } catch (e) { throw new HdfsError('invalid', `${this.ctx.uid}: file sink ${this.opts.fs.uri}${this.base}: ${(e as Error).message}`, this.base, undefined, { cause: e }); }
    const k = this.k++;
    const started = this.start();
    // Created only after the clean-up (which finds the first free part number, and would take an earlier file
    // for a left-over), and once fewer than maxOpenFiles streams are open: a part evicted for this one (or rolled)
    // is closed first, so that open files on the file system stay within the limit, not only the sink's list.
    const slot = this.acquireSlot();
    const stream = afterStart(Promise.all([started, slot]), () => this.opts.fs.createStream(this.names(bucket, k).inprogress, { overwrite: true }));
    const part: OpenPart<T> = { bucket, k, stream, encoder: this.opts.format.open(), openedAt: now, lastWrite: now, first: undefined, last: undefined, count: 0, chain: started, batch: [] };
    this.open.set(bucket, part);
    this.scheduleRollCheck(this.deadline(part));
    return part;
  }

  private push(part: OpenPart<T>, chunk: Uint8Array | Promise<Uint8Array>): void {
    if (chunk instanceof Promise) {
      // Still being encoded off this thread (bounded by the format): written in turn once ready, and counted as in
      // flight from then on, so that blocks waiting for a slow DataNode hold the writer back like any others.
      const counted = chunk.then((c) => { this.inFlight += c.byteLength; return c; });
      part.chain = Promise.all([part.chain, counted]).then(([, c]) => part.stream.write(c).then(() => { this.inFlight -= c.byteLength; }));
    } else {
      if (chunk.byteLength === 0) return;
      this.inFlight += chunk.byteLength;
      part.chain = part.chain.then(() => part.stream.write(chunk)).then(() => { this.inFlight -= chunk.byteLength; });
    }
    part.chain.catch((e) => { this.failure ??= e; });
  }

  private acquireSlot(): Promise<void> {
    if (this.slotsFree > 0) {
      this.slotsFree--;
      return Promise.resolve();
    }
    return new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.slotsFree++;
  }

  /** Closes a part file: the rest of its bytes, then the stream. It stays in-progress until the next barrier. */
  private roll(part: OpenPart<T>): void {
    this.push(part, part.encoder.end());
    const done = part.chain.then(() => part.stream.close());
    done.then(() => this.releaseSlot(), (e) => { this.failure ??= e; this.releaseSlot(); });
    this.closed.push({ part, done });
  }

  /** File names of part `k` in `bucket`; only once the clean-up has run. */
  private names(bucket: string, k: number, part?: OpenPart<T>): { inprogress: string; pending: string; final: string } {
    if (this.first === undefined) throw new Error('internal: part names before the clean-up');
    const n = this.first + k;
    const stem = `${this.dir(bucket)}/.${this.prefix}-${this.ctx.subtaskIndex}-${n}${this.ext}`;
    const final = `${this.dir(bucket)}/${this.opts.fileName && part && part.count > 0
      ? this.opts.fileName({ bucket, subtask: this.ctx.subtaskIndex, part: n, first: part.first as T, last: part.last as T, count: part.count, extension: this.ext })
      : `${this.prefix}-${this.ctx.subtaskIndex}-${n}${this.ext}`}`;
    return { inprogress: `${stem}${IN_PROGRESS}`, pending: `${stem}${PENDING}`, final };
  }

  write(values: readonly T[], timestamps: readonly number[], count: number): void | Promise<void> {
    this.throwIfFailed();
    const now = this.ctx.clock.now();
    const assign = this.opts.buckets;
    const touched = new Set<OpenPart<T>>();
    // Runs of records in the same bucket look their part up once: the part of the previous record cannot have been
    // evicted meanwhile, since only opening another bucket's part evicts.
    let bucket: string | undefined;
    let part: OpenPart<T> | undefined;
    if (!assign && count === values.length) {
      // One part takes the whole batch as it is: it is encoded (flushBatch) before this call returns.
      part = this.open.get('') ?? this.openPart('', now);
      touched.add(part);
      if (part.batch.length === 0) part.batch = values as T[];
      else for (let i = 0; i < count; i++) part.batch.push(values[i]!);
    } else for (let i = 0; i < count; i++) {
      const v = values[i]!;
      const b = assign ? assign(v, timestamps[i]!) : '';
      if (b !== bucket || part === undefined) {
        bucket = b;
        part = this.open.get(b) ?? this.openPart(b, now);
        touched.add(part);
      }
      part.batch.push(v);
    }
    for (const part of touched) {
      // Evicted (and so closed) during this batch: its records went in before it was closed.
      if (!this.flushBatch(part, now)) continue;
      if (part.encoder.bytes >= this.maxBytes || now - part.openedAt >= this.maxAge) {
        this.open.delete(part.bucket);
        this.roll(part);
      }
    }
    if (this.inFlight > MAX_IN_FLIGHT_BYTES) return Promise.all([...this.open.values()].map((p) => p.chain)).then(() => this.throwIfFailed());
  }

  /** Encodes the records collected for `part` in the current batch and queues its bytes; false when there were none. */
  private flushBatch(part: OpenPart<T>, now: number): boolean {
    const n = part.batch.length;
    if (n === 0) return false;
    try {
      part.encoder.append(part.batch, n);
    } catch (e) {
      throw this.encodingError(part, e);
    }
    part.first ??= part.batch[0];
    part.last = part.batch[n - 1];
    part.count += n;
    part.batch = [];
    part.lastWrite = now;
    this.push(part, part.encoder.take());
    return true;
  }

  /**
   * A record the format cannot encode (an Avro record that does not match the schema), reported with the sink's
   * operator and path on the file system, and the bucket: the format's own error names only the field.
   */
  private encodingError(part: OpenPart<T>, e: unknown): Error {
    const where = `${this.ctx.uid}: file sink ${this.opts.fs.uri}${this.base}${part.bucket ? ` (bucket ${part.bucket})` : ''}, format ${this.opts.format.description}`;
    if (e instanceof AvroError) return new AvroError(e.code, `${where}: ${e.message}`, { ...e.details, path: this.dir(part.bucket), cause: e });
    return new HdfsError('io', `${where}: a record cannot be encoded: ${(e as Error).message}`, this.dir(part.bucket), undefined, { cause: e });
  }

  /** When `part` is due to be closed by age or inactivity (Infinity: never before the next checkpoint). */
  private deadline(part: OpenPart<T>): number {
    return Math.min(part.lastWrite + this.inactivity, part.openedAt + this.maxAge);
  }

  /**
   * Makes sure a roll check runs at `at` or earlier. One timer for all parts, at the earliest deadline: writes only
   * move deadlines later (a check that finds nothing due reschedules itself), and a new part's is checked here.
   */
  private scheduleRollCheck(at: number): void {
    if (!Number.isFinite(at) || at >= this.checkAt) return;
    this.cancelCheck?.();
    this.checkAt = at;
    this.cancelCheck = this.ctx.clock.schedule(at, () => {
      this.cancelCheck = undefined;
      this.checkAt = Infinity;
      const now = this.ctx.clock.now();
      let next = Infinity;
      for (const part of [...this.open.values()]) {
        const due = this.deadline(part);
        if (due <= now) {
          this.open.delete(part.bucket);
          this.roll(part);
        } else if (due < next) next = due;
      }
      this.scheduleRollCheck(next);
    });
  }

  preCommit(): Promise<Committable[]> {
    // Cut synchronously: every open part is closed now; records written after this go to new parts.
    for (const part of [...this.open.values()]) this.roll(part);
    this.open.clear();
    this.cancelCheck?.();
    this.cancelCheck = undefined;
    this.checkAt = Infinity;
    const closing = this.closed;
    this.closed = [];
    // The state `snapshot` returns right after; its part number is filled in once the clean-up has found the base
    // (the engine stores it only after the committables resolve).
    const kAtCut = this.k;
    const snap = (this.snap = { next: this.first === undefined ? -1 : this.first + kAtCut });
    return (async () => {
      await this.start();
      snap.next = this.first! + kAtCut;
      const out: Committable[] = [];
      for (const c of closing) {
        await c.done;
        const names = this.names(c.part.bucket, c.part.k, c.part);
        await this.opts.fs.rename(names.inprogress, names.pending);
        out.push({ pending: names.pending, final: names.final });
      }
      this.throwIfFailed();
      return out;
    })();
  }

  async commit(committables: readonly Committable[]): Promise<void> {
    const fs = this.opts.fs;
    await Promise.all(committables.map(async (c) => {
      if (await fs.exists(c.pending)) {
        // A final file of this name from a run this restore rolled back would block the rename: it is replaced.
        if (await fs.exists(c.final)) await fs.delete(c.final);
        await fs.rename(c.pending, c.final);
      } else if (!(await fs.exists(c.final))) {
        throw new HdfsError('not-found', `cannot commit part file ${fs.uri}${c.final}: neither it nor its pending file ${c.pending} exists — were files under ${this.base} deleted by hand or by another sink with the same prefix '${this.prefix}'?`, c.pending);
      }
    }));
  }

  snapshot(): unknown {
    return this.snap;
  }

  restore(state: unknown): void {
    const next = (state as { next?: unknown } | undefined)?.next;
    if (typeof next === 'number' && next >= 0) this.restoredNext = next;
  }

  async finish(): Promise<void> {
    await this.start();
    this.throwIfFailed();
  }

  close(): void {
    this.cancelCheck?.();
    for (const part of this.open.values()) part.stream.abort();
  }
}

/** A write stream opened once `ready` settles. */
function afterStart(ready: Promise<unknown>, open: () => FileWriteStream): FileWriteStream {
  let s: FileWriteStream | undefined;
  const get = ready.then(() => (s = open()));
  get.catch(() => {});
  return {
    get bytes() { return s?.bytes ?? 0; },
    write: async (chunk) => (await get).write(chunk),
    close: async () => (await get).close(),
    abort: () => { get.then((x) => x.abort(), () => {}); },
  };
}
