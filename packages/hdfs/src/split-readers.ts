import { AvroError, BlockDecoder, findSync, parseHeader, readBlock, type AvroSchema, type ContainerHeader } from '@millrace/avro';
import { HdfsError } from './errors.js';
import type { FileSplit } from './file-split.js';
import type { FileStore } from './file-store.js';

/** Reads one split: blocks of records, and where it is (for checkpoints and progress). */
export interface SplitReader<T> {
  /** The next block of records, or `null` at the end of the split. Throws AvroError/HdfsError `corrupt` with path and offset. */
  nextBlock(): Promise<{ records: T[]; position: number } | null>;
  /** Bytes of the split consumed so far. */
  readonly consumed: number;
  /**
   * After `nextBlock` threw a corrupt-file error: moves past the damage, to the first block after the next intact
   * sync marker, and returns that block's offset (at or past the split's end when nothing of the split is left; the
   * file's length when no intact marker follows). The next split of the file starts at the same marker, so the
   * blocks starting before the offset returned are read by no split. Absent: the rest of the split is lost.
   */
  skipCorrupt?(): Promise<number>;
}

/** How a {@link fileSource} reads files: Avro container files (splittable) or JSON lines. */
export interface FileInputFormat<T> {
  readonly description: string;
  /** Whether large files are cut into byte-range splits. */
  readonly splittable: boolean;
  /** A reader for a split, starting at `position` (a block start from an earlier `nextBlock`) when given. */
  open(fs: FileStore, split: FileSplit, position?: number): SplitReader<T>;
}

const CHUNK = 1 << 20;

/** A window on a file, fetched by ranges as the reader moves forward. */
class FileWindow {
  buf: Uint8Array = new Uint8Array(0);
  start = 0;
  constructor(private readonly fs: FileStore, private readonly split: FileSplit) {}
  /** Makes bytes [offset, offset + n) available (fewer at the end of the file); returns false at the end. */
  async ensure(offset: number, n: number): Promise<boolean> {
    // A window that reaches the end of the file holds all there is: no copy of its tail for every block read there.
    const end = Math.min(offset + n, this.split.fileLength);
    if (offset >= this.start && end <= this.start + this.buf.length) return offset < this.split.fileLength;
    if (offset >= this.split.fileLength) return false;
    const have = offset >= this.start && offset <= this.start + this.buf.length ? this.buf.subarray(offset - this.start) : new Uint8Array(0);
    const from = offset + have.length;
    const want = Math.min(this.split.fileLength - from, Math.max(CHUNK, n - have.length));
    const more = want > 0 ? await this.fs.readRange(this.split.path, from, want) : new Uint8Array(0);
    const merged = new Uint8Array(have.length + more.length);
    merged.set(have, 0);
    merged.set(more, have.length);
    this.buf = merged;
    this.start = offset;
    return merged.length >= Math.min(n, this.split.fileLength - offset);
  }
}

/** Avro container files, read as `readerSchema` (schema evolution) when given; split at sync markers. */
export function avroInput<T>(opts: { readerSchema?: AvroSchema } = {}): FileInputFormat<T> {
  return {
    description: 'avro',
    splittable: true,
    open(fs, split, position) {
      const win = new FileWindow(fs, split);
      let header: ContainerHeader | undefined;
      let decoder: BlockDecoder<T> | undefined;
      let pos = position ?? -1;
      let consumed = 0;
      let unreadable = false;
      /** The offset just after the first sync marker starting at or after `from` and before `limit`; -1 if none. */
      const afterSync = async (from: number, limit: number): Promise<number> => {
        const last = Math.min(limit, split.fileLength - 16);
        while (from <= last) {
          await win.ensure(from, CHUNK);
          const i = findSync(win.buf, header!.sync, from - win.start);
          if (i >= 0) return win.start + i + 16 <= last + 16 ? win.start + i + 16 : -1;
          // A marker may straddle the window's end: look again from its last 15 bytes (always forward).
          from = Math.max(from + 1, win.start + win.buf.length - 15);
        }
        return -1;
      };
      return {
        get consumed() { return consumed; },
        async skipCorrupt() {
          // An unreadable header: no block of the file can be found.
          if (!header) { unreadable = true; return Math.max(split.end, split.fileLength); }
          // The block at `pos` failed (its size, its records or the marker after it): the next intact marker ends it.
          const next = await afterSync(pos + 1, split.fileLength);
          pos = next < 0 ? split.fileLength : next;
          consumed = Math.min(split.end, pos) - split.start;
          return pos;
        },
        async nextBlock() {
          if (unreadable) return null;
          if (!header) {
            let n = 64 * 1024;
            for (;;) {
              const complete = await win.ensure(0, n);
              header = parseHeader(win.buf, split.path);
              if (header) break;
              if (!complete || n >= split.fileLength) throw new AvroError('corrupt-file', `${split.path} ends inside its Avro header (${split.fileLength} bytes)`, { path: split.path, offset: split.fileLength });
              n *= 4;
            }
            decoder = new BlockDecoder<T>(header, opts.readerSchema, split.path);
            if (pos < 0) {
              if (split.start <= header.end - 16) pos = header.end;
              else {
                // The first block starting in the split follows the first sync marker at or after start - 16.
                pos = await afterSync(split.start - 16, split.end);
                if (pos < 0) pos = split.end;
              }
            }
          }
          if (pos >= split.end || pos >= split.fileLength) { consumed = split.end - split.start; return null; }
          let need = 64 * 1024;
          for (;;) {
            await win.ensure(pos, need);
            const block = readBlock(header, win.buf, pos - win.start, win.start, split.path);
            if (block) {
              const records = decoder!.decode(block);
              const at = pos;
              pos = block.end;
              consumed = Math.min(split.end, pos) - split.start;
              return { records, position: at };
            }
            if (win.start + win.buf.length >= split.fileLength) throw new AvroError('corrupt-file', `${split.path} ends inside the Avro block at byte offset ${pos} (truncated file, or a file still being written)`, { path: split.path, offset: pos });
            need *= 2;
          }
        },
      };
    },
  };
}

/**
 * JSON lines, one record per line; whole files. A line that is not JSON fails naming the file and its byte offset;
 * the records of the lines before it are delivered first (one block), so a reader that skips the corrupt rest of the
 * file loses only what starts at that offset.
 */
export function jsonLinesInput<T>(): FileInputFormat<T> {
  return {
    description: 'jsonl',
    splittable: false,
    open(fs, split, position) {
      let done = false;
      let corrupt: HdfsError | undefined;
      let consumed = 0;
      return {
        get consumed() { return consumed; },
        async nextBlock() {
          if (corrupt) throw corrupt;
          if (done) return null;
          done = true;
          const bytes = Buffer.from(await fs.readFile(split.path));
          const records: T[] = [];
          let off = 0;
          const from = position ?? 0;
          while (off < bytes.length) {
            let nl = bytes.indexOf(10, off);
            if (nl < 0) nl = bytes.length;
            if (off >= from && nl > off) {
              const line = bytes.toString('utf8', off, nl);
              try { records.push(JSON.parse(line) as T); } catch (e) {
                corrupt = new HdfsError('corrupt', `${split.path}: the line at byte offset ${off} is not JSON (${(e as Error).message})`, split.path, undefined, { cause: e, offset: off });
                break;
              }
            }
            off = nl + 1;
          }
          consumed = corrupt ? Math.min(off, split.end) - split.start : split.end - split.start;
          // The lines before a corrupt one are a block of their own; the next call reports the corrupt line.
          if (corrupt && records.length === 0) throw corrupt;
          return { records, position: 0 };
        },
      };
    },
  };
}
