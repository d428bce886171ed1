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
  /**
   * Blocks that may be compressing at once on libuv's thread pool while this thread encodes the next ones (default
   * 0: every block is compressed in `append`). Beyond it, blocks are compressed in the calling thread. Only codecs
   * with `compressAsync` (deflate) use it; read the output with {@link ContainerWriter.takeBlocks}.
   */
  readonly backgroundBlocks?: number;
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');

/**
 * Builds one Avro object container file in memory, block by block: `append` records; every time a block fills up,
 * its compressed bytes become available from `take()`. `end()` returns the rest. The first bytes taken (by `take`,
 * `takeBlocks`, `end` or `endBlocks`) start with the file header, so the concatenation of everything taken is the
 * file; a caller that wants the header on its own calls `header()` before the first take, and it is not repeated.
 * The output is standard (readable by avro-tools, Hadoop's `-text`, Spark, Hive). It does no I/O, so a sink can
 * stream the bytes anywhere. Not safe for concurrent use: one caller appends and takes, in that order.
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
  private out: Array<Uint8Array | Promise<Uint8Array>> = [];
  private outBytes = 0;
  private readonly background: number;
  /** Whether the header was returned (by `header()` or with the first bytes taken). */
  private headerTaken = false;
  private compressing = 0;
  /** Uncompressed bytes of the blocks compressing in the background. */
  private compressingRaw = 0;
  /** Compressed and uncompressed bytes of finished blocks: the ratio estimates the size of those still compressing. */
  private packed = 0;
  private unpacked = 0;
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
    this.background = this.codec.compressAsync ? Math.max(0, opts.backgroundBlocks ?? 0) : 0;
  }

  /**
   * The file header: magic, metadata (schema, codec), sync marker. Call it before the first `take()` (or `end()`)
   * to get the header on its own; otherwise that first take returns it in front of the blocks. Either way the header
   * is emitted once: `take()` and `end()` never repeat it, and calling `header()` again returns a copy for inspection
   * that is not counted in `bytes`.
   */
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
    if (!this.headerTaken) this.bytes += h.length;
    this.headerTaken = true;
    return h;
  }

  /** The header when it has not been taken yet, else nothing: what goes in front of the next bytes taken. */
  private headerOnce(): Uint8Array | undefined {
    return this.headerTaken ? undefined : this.header();
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

  /**
   * Bytes waiting in `take()` plus the current block's uncompressed bytes, and blocks compressing in the background
   * at the compression ratio so far: what a size-based rolling policy looks at.
   */
  get pendingBytes(): number {
    const ratio = this.unpacked > 0 ? this.packed / this.unpacked : 1;
    return this.bytes + Math.ceil(this.compressingRaw * ratio) + this.pos;
  }

  /** Closes the current block (if it has records), so everything appended so far is in `take()`. */
  flushBlock(): void {
    if (this.count === 0) return;
    const raw = this.buf.subarray(0, this.pos);
    const head = zigzag(this.count);
    // The first block is compressed here, so the ratio that estimates blocks still compressing is known at once.
    if (this.compressing < this.background && this.unpacked > 0) {
      // The block's buffer goes with it; encoding continues in a new one.
      this.buf = Buffer.allocUnsafe(this.buf.length);
      this.compressing++;
      this.compressingRaw += raw.length;
      const size = raw.length;
      const block = this.codec.compressAsync!(raw).then((data) => {
        this.compressing--;
        this.compressingRaw -= size;
        return this.frame(head, raw.length, data);
      });
      block.catch(() => {}); // reported by takeAsync
      this.out.push(block);
    } else {
      this.out.push(this.frame(head, raw.length, this.codec.compress(raw)));
    }
    this.pos = 0;
    this.count = 0;
  }

  /** A finished block: count, size, compressed data, sync marker. */
  private frame(head: Buffer, rawLength: number, data: Uint8Array): Buffer {
    const block = Buffer.concat([head, zigzag(data.length), data, this.sync]);
    this.outBytes += block.length;
    this.bytes += block.length;
    this.packed += data.length;
    this.unpacked += rawLength;
    return block;
  }

  /**
   * The completed blocks since the last call, as one chunk (empty when none), preceded by the header on the first
   * call unless `header()` was called. Not with `backgroundBlocks`: use `takeBlocks`.
   */
  take(): Uint8Array {
    if (this.background > 0) throw new Error('ContainerWriter with backgroundBlocks: read its blocks with takeBlocks()');
    const h = this.headerOnce();
    if (this.out.length === 0) return h ?? EMPTY;
    const parts = h ? [h, ...(this.out as Uint8Array[])] : this.out as Uint8Array[];
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.outBytes + (h?.length ?? 0));
    this.out = [];
    this.outBytes = 0;
    return chunk;
  }

  /**
   * The blocks closed since the last call, in order, as one chunk (preceded by the header on the first call, as for
   * `take`): at once when none is still compressing in the background, else a promise of it.
   */
  takeBlocks(): Uint8Array | Promise<Uint8Array> {
    const h = this.headerOnce();
    if (this.out.length === 0) return h ?? EMPTY;
    const parts = h ? [h, ...this.out] : this.out;
    this.out = [];
    this.outBytes = 0;
    if (parts.every((p) => p instanceof Uint8Array)) return join(parts as Uint8Array[]);
    return Promise.all(parts).then(join);
  }

  /** Flushes the last block and returns every byte not taken yet (the header too, if never taken): the end of the file. */
  end(): Uint8Array {
    this.flushBlock();
    return this.take();
  }

  /** `end()` for a writer with `backgroundBlocks`. */
  endBlocks(): Uint8Array | Promise<Uint8Array> {
    this.flushBlock();
    return this.takeBlocks();
  }
}

function join(blocks: Uint8Array[]): Uint8Array {
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
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
