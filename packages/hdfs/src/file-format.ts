import { ContainerWriter, type AvroCodec, type AvroSchema } from '@millrace/avro';

/** Encodes the records of one part file; it does no I/O. */
export interface PartEncoder<T> {
  /** Adds records. */
  append(values: readonly T[], count: number): void;
  /**
   * Bytes ready to be written since the last call (the first call includes the file header); a promise when some
   * are still being produced off this thread (Avro blocks compressing in the background).
   */
  take(): Uint8Array | Promise<Uint8Array>;
  /** The rest of the file (a promise as for `take`). */
  end(): Uint8Array | Promise<Uint8Array>;
  /** Bytes of the file so far, including what is still buffered: what size-based rolling looks at. */
  readonly bytes: number;
}

/** A file format of the {@link fileSink}: its file extension and an encoder per part file. */
export interface FileFormat<T> {
  /** Extension of part files, with the dot (e.g. `.avro`). */
  readonly extension: string;
  /** A description for `explain()`. */
  readonly description: string;
  open(): PartEncoder<T>;
}

/**
 * Avro object container files: deflate level 1 by default (`codec: 'snappy'` or `'null'` also), 64 KiB blocks.
 * With `backgroundBlocks: n`, deflate compresses up to n blocks at once on libuv's thread pool while the sink's
 * thread encodes the next records; by default (0) it compresses in the sink's thread, which measured as fast on a
 * busy 2-core machine (docs/performance-spikes.md §5). Try it where cores are idle.
 * Readable by avro-tools, Hadoop's `-text`, Spark and Hive.
 */
export function avroFormat<T>(schema: AvroSchema, opts: { codec?: 'null' | 'deflate' | 'snappy' | AvroCodec; blockSize?: number; validate?: boolean; backgroundBlocks?: number } = {}): FileFormat<T> {
  return {
    extension: '.avro',
    description: `avro(${typeof opts.codec === 'object' ? opts.codec.name : opts.codec ?? 'deflate'})`,
    open(): PartEncoder<T> {
      const w = new ContainerWriter<T>(schema, opts);
      // The writer puts the header in front of the first bytes taken.
      return {
        append: (values, count) => w.append(values, count),
        take: () => w.takeBlocks(),
        end: () => w.endBlocks(),
        get bytes() { return w.pendingBytes; },
      };
    },
  };
}

/** JSON lines: one `JSON.stringify(record)` per line, UTF-8. */
export function jsonLinesFormat<T>(): FileFormat<T> {
  return {
    extension: '.jsonl',
    description: 'jsonl',
    open(): PartEncoder<T> {
      let text = '';
      let bytes = 0;
      return {
        append(values, count) {
          for (let i = 0; i < count; i++) text += JSON.stringify(values[i]) + '\n';
        },
        take() {
          if (text.length === 0) return new Uint8Array(0);
          const b = Buffer.from(text, 'utf8');
          text = '';
          bytes += b.length;
          return b;
        },
        end() { return this.take(); },
        get bytes() { return bytes + text.length; },
      };
    },
  };
}
