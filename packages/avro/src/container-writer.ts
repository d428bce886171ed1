import { randomBytes } from 'node:crypto';
import { codecOf, type AvroCodec } from './codecs.js';
import { assertValid, avroType, type AvroSchema, type AvroType } from './schema.js';

/** Options of {@link ContainerWriter}. */
export interface ContainerWriterOptions {
  /** Block codec: `'deflate'` (default, level 1), `'snappy'`, `'null'`, or a codec (e.g. `deflateCodec(6)`). */
  readonly codec?: 'null' | 'deflate' | 'snappy' | AvroCodec;
  /** Uncompressed bytes per block before it is compressed and emitted (default 64 KiB, as avsc and Java). */
  readonly blockSize?: number;
  /** Extra header metadata (`avro.schema` and `avro.codec` are set by the writer). */
  readonly metadata?: Record<string, string>;
  /**
   * A record that does not match the schema fails with an AvroError `invalid-value` naming its field (default true). The
   * check runs only when encoding fails, so valid records pay nothing for it; `false` leaves avsc's terser error.
   */
  readonly validate?: boolean;
  /** The sync marker (16 bytes); random by default. */
  readonly syncMarker?: Uint8Array;
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');

/**
 * Builds one Avro object container file in memory, block by block: `header()` once, then `append` records; every
 * time a block fills up, its compressed bytes become available from `take()`. `end()` returns the last block.
 * The output is standard (readable by avro-tools, Hadoop's `-text`, Spark, Hive). It does no I/O, so a sink can
 * stream the bytes anywhere.
 */
export class ContainerWriter<T = unknown> {
  readonly type: AvroType;
  readonly codec: AvroCodec;
  readonly sync: Buffer;
  private readonly blockSize: number;
  private readonly validate: boolean;
  private readonly metadata: Record<string, string>;
  private buf: Buffer;
  private pos = 0;
  private count = 0;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  /** Records appended so far. */
  records = 0;
  /** Bytes produced so far (header and emitted blocks). */
  bytes = 0;

  constructor(schema: AvroSchema, opts: ContainerWriterOptions = {}) {
    this.type = avroType(schema);
    this.codec = codecOf(opts.codec);
    this.blockSize = opts.blockSize ?? 64 * 1024;
    this.validate = opts.validate ?? true;
    this.metadata = opts.metadata ?? {};
    this.sync = Buffer.from(opts.syncMarker ?? randomBytes(16));
    this.buf = Buffer.allocUnsafe(this.blockSize + 1024);
  }

  /** The file header: magic, metadata (schema, codec), sync marker. Emitted by `take()` too, once, unless taken here. */
  header(): Uint8Array {
    const parts: Buffer[] = [MAGIC];
    const meta: Record<string, string> = { ...this.metadata, 'avro.schema': JSON.stringify(this.type.schema({ exportAttrs: true })), 'avro.codec': this.codec.name };
    const entries = Object.entries(meta);
    parts.push(zigzag(entries.length));
    for (const [k, v] of entries) {
      const kb = Buffer.from(k, 'utf8');
      const vb = Buffer.from(v, 'utf8');
      parts.push(zigzag(kb.length), kb, zigzag(vb.length), vb);
    }
    parts.push(zigzag(0), this.sync);
    const h = Buffer.concat(parts);
    this.bytes += h.length;
    return h;
  }

  /** Encodes records into the current block; completed blocks wait in `take()`. */
  append(values: readonly T[], count = values.length): void {
    const type = this.type;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      let next = this.encode(type, v);
      while (next < 0) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos - next + 1024));
        this.buf.copy(bigger, 0, 0, this.pos);
        this.buf = bigger;
        next = this.encode(type, v);
      }
      this.pos = next;
      this.count++;
      this.records++;
      if (this.pos >= this.blockSize) this.flushBlock();
    }
  }

  /**
   * Encodes one record at the current position; the new position, or negative when the buffer is too small. avsc's
   * writers check every value they write and throw on a mismatch, so validating up front (`isValid`, a second walk
   * over the record: a third of the encoding time, docs/performance-spikes.md §5) is needed only to explain a failure.
   */
  private encode(type: AvroType, v: T | undefined): number {
    try {
      return type.encode(v, this.buf, this.pos);
    } catch (e) {
      if (this.validate) assertValid(type, v);
      throw e;
    }
  }

  /** Bytes waiting in `take()` plus the current block's uncompressed bytes: what a size-based rolling policy looks at. */
  get pendingBytes(): number { return this.bytes + this.pos; }

  /** Closes the current block (if it has records), so everything appended so far is in `take()`. */
  flushBlock(): void {
    if (this.count === 0) return;
    const data = this.codec.compress(this.buf.subarray(0, this.pos));
    const block = Buffer.concat([zigzag(this.count), zigzag(data.length), data, this.sync]);
    this.out.push(block);
    this.outBytes += block.length;
    this.bytes += block.length;
    this.pos = 0;
    this.count = 0;
  }

  /** The completed blocks since the last call, as one chunk (empty when none). */
  take(): Uint8Array {
    if (this.out.length === 0) return EMPTY;
    const chunk = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    return chunk;
  }

  /** Flushes the last block and returns every byte not taken yet: the end of the file. */
  end(): Uint8Array {
    this.flushBlock();
    return this.take();
  }
}

const EMPTY = new Uint8Array(0);

/** Avro's zigzag varint encoding of a long. */
export function zigzag(n: number): Buffer {
  const bytes: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) { bytes.push((z % 0x80) | 0x80); z = Math.floor(z / 0x80); }
  bytes.push(z);
  return Buffer.from(bytes);
}
