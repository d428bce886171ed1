import type { FileStore } from './file-store.js';
import { PathPattern, partitionMatches, partitionsOf, type PartitionFilter } from './path-pattern.js';
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

/**
 * Lists the files matching the patterns (hidden files, whose names start with `.` or `_`, are skipped, as Hadoop
 * does: in-progress and pending part files), prunes partitions by the filters, and cuts splits: whole files,
 * or ranges of `splitBytes` for splittable formats. Sorted by path, then start.
 */
export async function planSplits(fs: FileStore, patterns: readonly string[], filters: readonly PartitionFilter[], splittable: boolean, splitBytes: number): Promise<FileSplit[]> {
  const passes = (path: string): boolean => {
    const parts = partitionsOf(path);
    return filters.every((f) => parts[f.column] === undefined || partitionMatches(f, parts[f.column]!));
  };
  const files = new Map<string, number>();
  for (let p of patterns) {
    if (!/[*?{[]/.test(p)) {
      const st = await fs.status(p);
      if (st?.type === 'directory') p = `${p.replace(/\/$/, '')}/**`;
      else if (st?.type === 'file') { files.set(p, st.length); continue; } else continue;
    }
    const pat = new PathPattern(p);
    const found = await walkFiles(fs, pat.root, (d) => pat.mayContain(d) && passes(d));
    const matching = found.filter((f) => pat.matches(f) && !/\/[._][^/]*$/.test(f) && passes(f));
    for (let i = 0; i < matching.length; i += 16) {
      const sts = await Promise.all(matching.slice(i, i + 16).map((f) => fs.status(f)));
      for (const st of sts) if (st) files.set(st.path, st.length);
    }
  }
  const splits: FileSplit[] = [];
  for (const [path, length] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!splittable || length <= splitBytes) { splits.push({ id: `${path}@0`, path, start: 0, end: length, fileLength: length }); continue; }
    for (let s = 0; s < length; s += splitBytes) splits.push({ id: `${path}@${s}`, path, start: s, end: Math.min(length, s + splitBytes), fileLength: length });
  }
  return splits;
}
