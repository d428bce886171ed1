import type { FileStore } from './file-store.js';

/**
 * Every file below `dir`, depth first, sorted by path. `descend(path)` may skip a directory (partition pruning).
 * Directories are listed a few at a time.
 */
export async function walkFiles(fs: FileStore, dir: string, descend: (dirPath: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  let level = [dir];
  while (level.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 8) {
      const lists = await Promise.all(level.slice(i, i + 8).map((d) => fs.listStatus(d)));
      for (const list of lists) {
        for (const s of list) {
          if (s.type === 'directory') { if (descend(s.path)) next.push(s.path); } else out.push(s.path);
        }
      }
    }
    level = next;
  }
  return out.sort();
}
