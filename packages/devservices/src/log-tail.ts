import { open } from 'node:fs/promises';

/**
 * The last `lines` lines of a text file, or an empty string when it does not exist.
 * Reads at most the final 64 KiB, so it is cheap on large logs.
 *
 * @param path - file to read
 * @param lines - how many lines to return, 40 by default
 */
export async function readLogTail(path: string, lines = 40): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
