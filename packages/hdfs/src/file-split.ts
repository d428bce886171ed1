import type { FileStore } from './file-store.js';
import { HdfsError } from './errors.js';
import { PathPattern, partitionFilterText, partitionMatches, partitionsOf, type PartitionFilter } from './path-pattern.js';
import { walkFiles } from './walk.js';

/** A byte range of one file that one reader reads: a whole file, or a range of an Avro file's blocks. */
export interface FileSplit {
  /** `<path>@<start>`: stable across runs, what positions refer to. */
  readonly id: string;
  readonly path: string;
  /** Blocks starting at `start` ≤ offset < `end` belong to the split. */
  readonly start: number;
  readonly end: number;
  /** The whole file's length. */
  readonly fileLength: number;
}

/** Options of {@link planSplits}. */
export interface PlanSplitsOptions {
  /**
   * A pattern that matches no file: `false` (default) fails with an {@link HdfsError} `not-found` naming the pattern
   * and the directory listed (as Spark fails on an input path that does not exist); `true` reads nothing from it and
   * logs a warning.
   */
  readonly allowEmpty?: boolean;
  /** Where the warning of `allowEmpty` goes; default stderr. */
  readonly log?: (message: string) => void;
}

const HIDDEN = /\/[._][^/]*$/;

/**
 * Lists the files matching the patterns (hidden files, whose names start with `.` or `_`, are skipped, as Hadoop
 * does: in-progress and pending part files), prunes partitions by the filters, and cuts splits: whole files,
 * or ranges of `splitBytes` for splittable formats. Sorted by path, then start.
 *
 * Fails with an {@link HdfsError} when a pattern matches no file (unless `allowEmpty`; a pattern whose files the
 * partition filters exclude is not empty, it matched) and when a filter's column is in no path listed (a misspelt
 * column would otherwise filter nothing).
 */
export async function planSplits(fs: FileStore, patterns: readonly string[], filters: readonly PartitionFilter[], splittable: boolean, splitBytes: number, opts: PlanSplitsOptions = {}): Promise<FileSplit[]> {
  /** Partition columns of every path looked at, pruned or not. */
  const seen = new Set<string>();
  const passes = (path: string): boolean => {
    const parts = partitionsOf(path);
    for (const c in parts) seen.add(c);
    return filters.every((f) => parts[f.column] === undefined || partitionMatches(f, parts[f.column]!));
  };
  const files = new Map<string, number>();
  for (const pattern of patterns) {
    let p = pattern;
    if (!/[*?{[]/.test(p)) {
      const st = await fs.status(p);
      if (st?.type === 'directory') p = `${p.replace(/\/$/, '')}/**`;
      else if (st?.type === 'file') { passes(p); files.set(p, st.length); continue; } else {
        empty(fs, pattern, `${p} does not exist`, opts);
        continue;
      }
    }
    const pat = new PathPattern(p);
    let listed = 1;
    let pruned = 0;
    const found = await walkFiles(fs, pat.root, (d) => {
      if (!pat.mayContain(d)) return false;
      if (passes(d)) { listed++; return true; }
      pruned++;
      return false;
    });
    const candidates = found.filter((f) => pat.matches(f));
    const visible = candidates.filter((f) => !HIDDEN.test(f));
    const matching = visible.filter(passes);
    if (visible.length === 0 && pruned === 0) {
      const root = found.length === 0 && listed === 1 ? await fs.status(pat.root) : undefined;
      const hidden = candidates.length > 0 ? `; ${candidates.length} hidden file(s) match (names starting with '.' or '_': in-progress or pending files), which are never read` : '';
      const where = found.length === 0 && listed === 1 && root?.type !== 'directory'
        ? (root ? `${pat.root} is a file, not a directory` : `the directory ${pat.root} does not exist`)
        : `listed ${pat.root} and ${listed - 1} directories below it, ${found.length} file(s), none matching${hidden}`;
      empty(fs, pattern, where, opts);
    }
    for (let i = 0; i < matching.length; i += 16) {
      const sts = await Promise.all(matching.slice(i, i + 16).map((f) => fs.status(f)));
      for (const st of sts) if (st) files.set(st.path, st.length);
    }
  }
  if (seen.size > 0 || files.size > 0) {
    for (const f of filters) {
      if (seen.has(f.column)) continue;
      const cols = seen.size > 0 ? `columns seen: ${[...seen].sort().join(', ')}` : 'no path listed has a column=value directory';
      throw new HdfsError('invalid', `partition filter '${partitionFilterText(f)}' is on the column '${f.column}', but no path matching ${patterns.map((x) => `'${x}'`).join(', ')} on ${fs.uri} has it (${cols}): fix the filter's column or the paths`, patterns[0] ?? '/');
    }
  }
  const splits: FileSplit[] = [];
  for (const [path, length] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!splittable || length <= splitBytes) { splits.push({ id: `${path}@0`, path, start: 0, end: length, fileLength: length }); continue; }
    for (let s = 0; s < length; s += splitBytes) splits.push({ id: `${path}@${s}`, path, start: s, end: Math.min(length, s + splitBytes), fileLength: length });
  }
  return splits;
}

/** A pattern that matched nothing: an error, or with `allowEmpty` a warning. */
function empty(fs: FileStore, pattern: string, where: string, opts: PlanSplitsOptions): void {
  const what = `'${pattern}' matches no file on ${fs.uri}: ${where}`;
  if (!opts.allowEmpty) throw new HdfsError('not-found', `file source: ${what} — check the path, or set allowEmpty: true to read nothing from it`, pattern);
  (opts.log ?? ((m) => process.stderr.write(`${m}\n`)))(`[millrace] warning: file source: ${what} (allowEmpty: true, reading nothing from it)`);
}
