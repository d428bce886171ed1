import type { Source, SourceBatch, SourceDeadLetter, SourceReader, SourceReaderContext } from '@millrace/core';
import { AvroError } from '@millrace/avro';
import { HdfsError } from './errors.js';
import { planSplits, type FileSplit } from './file-split.js';
import type { FileStore } from './file-store.js';
import { PathPattern, checkPartitionFilter, parsePartitionFilter, partitionFilterText, type PartitionFilter } from './path-pattern.js';
import { ProgressReporter } from './progress.js';
import { requireOptions } from './options.js';
import type { FileInputFormat, SplitReader } from './split-readers.js';

/**
 * A corrupt part of a file, skipped with `onCorrupt: 'skip'`: the records of the Avro blocks (or JSON lines) starting
 * from `offset` to before `end` were not read, by this split or any other; everything else of the file is read.
 * Avro reading goes on after the next intact sync marker (`end`); a JSON-lines file is skipped to its end.
 */
export interface SkippedSplit {
  readonly path: string;
  /** The split that found the damage: [`splitStart`, `splitEnd`) of the file. */
  readonly splitStart: number;
  readonly splitEnd: number;
  /** Byte offset of the problem in the file (the start of the corrupt Avro block, or of the line); else `splitStart`. */
  readonly offset: number;
  /** Where reading goes on (the block after the next intact sync marker); the file's length when nothing followed. */
  readonly end: number;
  readonly error: string;
}

/** Options of {@link fileSource}. */
export interface FileSourceOptions<T> {
  readonly fs: FileStore;
  /**
   * Absolute paths or globs (`*`, `?`, `{a,b}`, `[0-9]`, `**`); a directory means every file below it. A relative
   * path fails when the source is created. A path or glob that matches no file fails the job when it starts, naming
   * it and the directory listed, as Spark fails on an input path that does not exist (see `allowEmpty`).
   */
  readonly paths: string | readonly string[];
  /**
   * Read nothing, with a warning in the log, from a path or glob that matches no file, instead of failing (default
   * false). For inputs that may legitimately be empty, e.g. a day without data.
   */
  readonly allowEmpty?: boolean;
  /** `avroInput({ readerSchema })` or `jsonLinesInput()`. */
  readonly format: FileInputFormat<T>;
  /**
   * Partition pruning on Hive-style directories, e.g. `['dt>=2026-11-01', 'hour<12']`; numbers compare as numbers,
   * anything else as strings. Checked when the source is created: a filter that does not parse, or whose value starts
   * with an operator character (`dt=>2026-11-01`), fails naming it; so does a filter on a column the globs do not
   * have when they name every directory level (`/data/dt=*\/hour=*\/*.avro` has `dt` and `hour`). Otherwise the job
   * fails when it starts if no path listed has the filter's column. Files whose paths lack the column are read.
   */
  readonly partitions?: readonly (string | PartitionFilter)[];
  /** Avro files above this size are read as several splits, cut at sync markers (default 64 MiB). */
  readonly splitBytes?: number;
  /**
   * A corrupt file: `'fail'` (default) fails the job with an error naming the file and byte offset; `'skip'` skips
   * the rest of the split (from the corrupt Avro block or JSON line on), logs it, and sends a {@link SkippedSplit}
   * to the job's dead letters (`env.deadLetters()`, as a dead letter of this source step) when the job reads them,
   * and to the `deadLetters` callback.
   */
  readonly onCorrupt?: 'fail' | 'skip';
  /** Receives each skipped split, in the thread that reads it; `env.deadLetters()` receives them too. */
  readonly deadLetters?: (skipped: SkippedSplit) => void;
  /** Progress: `'auto'` (default) draws a bar with ETA on a TTY and logs a line per 10 % otherwise; `false`: nothing. */
  readonly progress?: 'auto' | false;
  /** Log lines (skipped splits, progress without TTY); default stderr. */
  readonly log?: (message: string) => void;
}

/** A subtask's position: splits it finished, and where it is in the current one. */
interface Position {
  readonly done: readonly string[];
  readonly current?: { readonly id: string; readonly block: number; readonly skip: number };
}

/**
 * A bounded source over files on HDFS or a local directory: globs, partition pruning, splits (whole files, or
 * Avro block ranges for large files), dealt round-robin to subtasks. Positions are split ids with a block and a
 * record count, so a restored job continues where it was, at any parallelism (`rescalable`). Event time is not
 * ordered across files, so the source declares `unorderedEventTime`: the watermark waits for the end of input
 * and no record is late; a job gives the same results as on the same records from Kafka.
 */
export function fileSource<T>(opts: FileSourceOptions<T>): Source<T> & { readonly skipped: SkippedSplit[] } {
  requireOptions('fileSource', opts, ['fs', 'paths', 'format'], "{ fs: new WebHdfsFileSystem({ url }), paths: '/data/readings/dt=*/*.avro', format: avroInput(schema) }");
  const patterns = typeof opts.paths === 'string' ? [opts.paths] : [...opts.paths];
  const where = `fileSource(${opts.fs.uri} ${patterns.join(', ')})`;
  for (const p of patterns) {
    if (typeof p !== 'string' || !p.startsWith('/')) throw new HdfsError('invalid', `${where}: paths must be absolute on ${opts.fs.uri}, got '${String(p)}'`, String(p));
  }
  const compiled = patterns.map((p) => new PathPattern(p));
  const filters = (opts.partitions ?? []).map((f) => {
    try { return typeof f === 'string' ? parsePartitionFilter(f) : checkPartitionFilter(f); } catch (e) {
      throw new HdfsError('invalid', `${where}: ${(e as Error).message}`, patterns[0] ?? '/', undefined, { cause: e });
    }
  });
  const named = compiled.map((c) => c.columns);
  if (named.every((c) => c !== undefined)) {
    const all = [...new Set(named.flatMap((c) => c!))];
    for (const f of filters) {
      if (all.includes(f.column)) continue;
      const which = patterns.length === 1 ? `the path pattern '${patterns[0]}' does not have` : `none of the path patterns has`;
      throw new HdfsError('invalid', `${where}: partition filter '${partitionFilterText(f)}' is on the column '${f.column}', which ${which} (${all.length > 0 ? `its columns: ${all.join(', ')}` : 'it has no column=… directory'}): fix the filter's column or the pattern`, patterns[0]!);
    }
  }
  const skipped: SkippedSplit[] = [];
  return {
    description: `fileSource(${opts.fs.uri} ${patterns.join(', ')}, ${opts.format.description})`,
    bounded: true,
    rescalable: true,
    unorderedEventTime: true,
    skipped,
    createReader: (ctx) => new FileSourceReader(opts, patterns, filters, ctx, skipped),
  };
}

class FileSourceReader<T> implements SourceReader<T> {
  private splits: FileSplit[] | undefined;
  private readonly done = new Set<string>();
  private partial = new Map<string, { block: number; skip: number }>();
  private index = 0;
  private current: { split: FileSplit; reader: SplitReader<T>; block: number; emitted: number; buf: T[]; at: number } | undefined;
  private doneBytes = 0;
  private totalBytes = 0;
  private progress: ProgressReporter | undefined;
  private readonly log: (m: string) => void;

  constructor(
    private readonly opts: FileSourceOptions<T>,
    private readonly patterns: readonly string[],
    private readonly filters: readonly PartitionFilter[],
    private readonly ctx: SourceReaderContext,
    private readonly skipped: SkippedSplit[],
  ) {
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  private async plan(): Promise<FileSplit[]> {
    let all: FileSplit[];
    try {
      all = await planSplits(this.opts.fs, this.patterns, this.filters, this.opts.format.splittable, this.opts.splitBytes ?? 64 * 1024 * 1024, {
        allowEmpty: this.opts.allowEmpty ?? false,
        // Every subtask plans the same splits: one warning is enough.
        log: this.ctx.subtaskIndex === 0 ? this.log : () => {},
      });
    } catch (e) {
      // Name the step: a job may read several file sources.
      if (!(e instanceof HdfsError)) throw e;
      throw new HdfsError(e.code, `file source '${this.ctx.uid}': ${e.message.replace(/^file source: /, '')}`, e.path, e.remote);
    }
    const mine = all.filter((_, i) => i % this.ctx.parallelism === this.ctx.subtaskIndex).filter((s) => !this.done.has(s.id));
    this.totalBytes = mine.reduce((n, s) => n + (s.end - s.start), 0);
    if (this.opts.progress !== false) {
      const label = this.ctx.parallelism > 1 ? `${this.ctx.uid}#${this.ctx.subtaskIndex}` : this.ctx.uid;
      this.progress = new ProgressReporter(label, this.totalBytes, this.ctx.clock.now());
      if (!process.stderr.isTTY) this.progress = new ProgressReporter(label, this.totalBytes, this.ctx.clock.now(), { write: (s: string) => { this.log(s.replace(/\n$/, '')); return true; }, isTTY: false } as unknown as NodeJS.WriteStream);
    }
    return mine;
  }

  async next(max: number): Promise<SourceBatch<T> | null> {
    this.splits ??= await this.plan();
    for (;;) {
      const c = this.current;
      if (c && c.buf.length > c.at) {
        const values = c.buf.slice(c.at, c.at + max);
        c.at += values.length;
        c.emitted += values.length;
        return { values };
      }
      if (c) {
        let next: Awaited<ReturnType<SplitReader<T>['nextBlock']>>;
        let skipped: SourceDeadLetter | undefined;
        try {
          next = await c.reader.nextBlock();
        } catch (e) {
          const s = await this.onCorrupt(c, e);
          skipped = this.ctx.deadLetters === false ? undefined : { value: s, error: e };
          next = null;
          if (s.end < c.split.end) {
            // The split goes on after the damage; a checkpoint taken after this batch resumes there too.
            c.block = s.end;
            c.emitted = 0;
            c.buf = [];
            c.at = 0;
            if (skipped) return { values: [], deadLetters: [skipped] };
            continue;
          }
        }
        if (next) {
          c.block = next.position;
          c.emitted = 0;
          c.buf = next.records;
          c.at = 0;
          const skip = this.partial.get(c.split.id);
          if (skip && skip.block === next.position) { c.at = Math.min(skip.skip, c.buf.length); c.emitted = c.at; this.partial.delete(c.split.id); }
          continue;
        }
        this.done.add(c.split.id);
        this.doneBytes += c.split.end - c.split.start;
        this.current = undefined;
        this.progress?.update(this.doneBytes, this.ctx.clock.now());
        // Returned at once, with the split done: a checkpoint after this batch holds both, or neither.
        if (skipped) return { values: [], deadLetters: [skipped] };
      }
      const split = this.splits[this.index++];
      if (!split) {
        this.progress?.update(this.doneBytes, this.ctx.clock.now(), true);
        this.progress = undefined;
        return null;
      }
      if (this.done.has(split.id)) continue;
      const resume = this.partial.get(split.id);
      this.current = { split, reader: this.opts.format.open(this.opts.fs, split, resume?.block), block: resume?.block ?? -1, emitted: 0, buf: [], at: 0 };
    }
  }

  /**
   * A split reader failed: rethrows unless the file is corrupt and `onCorrupt` is `'skip'`. Otherwise moves the reader
   * past the damage (the rest of the split for readers that cannot), logs it and tells the `deadLetters` callback.
   */
  private async onCorrupt(c: { split: FileSplit; reader: SplitReader<T> }, e: unknown): Promise<SkippedSplit> {
    const corrupt = (e instanceof AvroError && e.code === 'corrupt-file') || (e instanceof HdfsError && e.code === 'corrupt');
    if (!corrupt || this.opts.onCorrupt !== 'skip') throw e;
    const { split } = c;
    const end = c.reader.skipCorrupt ? await c.reader.skipCorrupt() : split.end;
    const s: SkippedSplit = { path: split.path, splitStart: split.start, splitEnd: split.end, offset: e.offset ?? split.start, end, error: e.message };
    this.skipped.push(s);
    this.opts.deadLetters?.(s);
    const to = this.ctx.deadLetters === false ? '' : ", sent to the job's dead letters";
    const rest = end < split.end ? `, reading on from byte ${end}` : '';
    this.log(`[millrace] ${this.ctx.uid}#${this.ctx.subtaskIndex}: skipped bytes ${s.offset} to ${end} of ${split.path} (split ${split.id}, onCorrupt: 'skip'${to})${rest}: ${e.message}`);
    return s;
  }

  snapshot(): Position {
    const c = this.current;
    return {
      done: [...this.done],
      ...(c && c.block >= 0 ? { current: { id: c.split.id, block: c.block, skip: c.emitted } } : {}),
    };
  }

  restore(_position: unknown, all: readonly unknown[]): void {
    // Positions of every subtask of the checkpointed run: splits may now belong to another subtask.
    for (const p of all as Position[]) {
      if (!p) continue;
      for (const id of p.done) this.done.add(id);
      if (p.current) this.partial.set(p.current.id, { block: p.current.block, skip: p.current.skip });
    }
  }
}
