import { appendFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Sink, SinkWriter } from '@millrace/core';

/** A part file made visible at commit. */
interface Committable { readonly pending: string; readonly final: string }

/**
 * Writes records as JSON lines into part files in a local directory, exactly once with checkpoints:
 * records go to `.part-<subtask>-<n>.<writer>.jsonl.inprogress` (`<writer>` is random per writer, so a write of a
 * crashed run that lands late can never mix into a file of the run that replaced it); at a barrier the file is renamed
 * `….pending` (pre-commit);
 * when the checkpoint completes it gets its final name `part-<subtask>-<n>.jsonl`. Readers that skip dot-files
 * never see partial output. On restore, pending files of the last completed checkpoint are committed and files
 * the crashed run wrote after it are deleted, and the writer says what it did on stderr.
 */
export function jsonLinesFileSink<T>(
  directory: string,
  opts: {
    /** Where the writer reports what it cleaned up on restore; default stderr. */
    readonly log?: (msg: string) => void;
    /** Records buffered in memory before they are appended to the in-progress file. Default 4096. */
    readonly bufferRecords?: number;
  } = {},
): Sink<T> {
  const bufferRecords = opts.bufferRecords ?? 4096;
  const dir = resolve(directory);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  return {
    description: `jsonLinesFile(${dir})`,
    createWriter(ctx): SinkWriter<T, Committable> {
      const sub = ctx.subtaskIndex;
      let part = 0;
      let buffered: string[] = [];
      let current: string | undefined;
      let chain: Promise<void> = mkdir(dir, { recursive: true }).then(() => undefined);
      const token = randomUUID().slice(0, 8);
      const inprogress = (n: number): string => join(dir, `.part-${sub}-${n}.${token}.jsonl.inprogress`);
      const pending = (n: number): string => join(dir, `.part-${sub}-${n}.${token}.jsonl.pending`);
      const final = (n: number): string => join(dir, `part-${sub}-${n}.jsonl`);
      const flush = (): Promise<void> => {
        if (buffered.length === 0) return chain;
        const text = buffered.join('');
        buffered = [];
        current ??= inprogress(part);
        const file = current;
        chain = chain.then(() => appendFile(file, text));
        return chain;
      };
      return {
        write(values, _ts, n) {
          for (let i = 0; i < n; i++) buffered.push(JSON.stringify(values[i]) + '\n');
          if (buffered.length >= bufferRecords) return flush();
        },
        preCommit() {
          // Cut synchronously: later writes go to the next part, whatever the I/O below is still doing.
          void flush();
          if (current === undefined) return chain.then(() => []);
          const n = part++;
          current = undefined;
          chain = chain.then(() => rename(inprogress(n), pending(n)));
          return chain.then(() => [{ pending: pending(n), final: final(n) }]);
        },
        async commit(cs) {
          await chain;
          for (const c of cs) {
            try {
              await rename(c.pending, c.final);
            } catch (e) {
              // Already committed before a crash: fine (idempotent). Anything else is an error.
              if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !(await exists(c.final))) throw e;
            }
          }
        },
        snapshot: () => ({ nextPart: part }),
        async restore(state) {
          const next = (state as { nextPart?: number } | undefined)?.nextPart ?? 0;
          await mkdir(dir, { recursive: true });
          let removed = 0;
          for (const name of await readdir(dir)) {
            const m = new RegExp(`^\\.part-${sub}-(\\d+)\\.[0-9a-f]+\\.jsonl\\.(inprogress|pending)$`).exec(name);
            if (m && Number(m[1]) >= next) {
              await rm(join(dir, name));
              removed++;
            }
          }
          // Final files numbered at or after `next` came from a run that did not complete a checkpoint for them.
          for (const name of await readdir(dir)) {
            const m = new RegExp(`^part-${sub}-(\\d+)\\.jsonl$`).exec(name);
            if (m && Number(m[1]) >= next) { await rm(join(dir, name)); removed++; }
          }
          if (removed > 0) log(`[millrace] ${ctx.uid}#${sub}: removed ${removed} part file(s) written after the restored checkpoint in ${dir}`);
          part = next;
        },
        async finish() { await flush(); },
        async close() { await chain.catch(() => {}); },
      };
    },
  };
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}
