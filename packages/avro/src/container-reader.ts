import { codecByName, type AvroCodec } from './codecs.js';
import { AvroError } from './errors.js';
import { avroType, resolverFor, type AvroSchema, type AvroType } from './schema.js';

/** The header of an Avro container file. */
export interface ContainerHeader {
  /** The writer schema's type. */
  readonly type: AvroType;
  readonly codec: AvroCodec;
  readonly sync: Uint8Array;
  /** Every metadata entry, as strings (`avro.schema`, `avro.codec`, user entries). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Where the first block starts (the header's length). */
  readonly end: number;
}

/** One data block: where it is in the file, how many records, its (compressed) payload. */
export interface ContainerBlock {
  /** File offset of the block's first byte (its record count). */
  readonly start: number;
  /** File offset just after its sync marker: where the next block starts. */
  readonly end: number;
  readonly count: number;
  readonly payload: Uint8Array;
}

const MAGIC = [0x4f, 0x62, 0x6a, 0x01];

/** Reads a zigzag varint long at `pos`; `undefined` when the bytes end first. */
function readLong(buf: Uint8Array, pos: number): [number, number] | undefined {
  let n = 0;
  let mul = 1;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [n % 2 === 0 ? n / 2 : -(n + 1) / 2, i + 1];
    mul *= 128;
    if (i - pos > 9) return [NaN, i + 1];
  }
  return undefined;
}

/**
 * Parses a container file's header from its first bytes. Returns `undefined` when `bytes` ends before the header
 * does (read more and try again). Throws an {@link AvroError} `corrupt-file` naming `path` when it is not an Avro
 * container file.
 */
export function parseHeader(bytes: Uint8Array, path = '(bytes)'): ContainerHeader | undefined {
  for (let i = 0; i < 4; i++) {
    if (i >= bytes.length) return undefined;
    if (bytes[i] !== MAGIC[i]) throw new AvroError('corrupt-file', `${path} is not an Avro container file: it does not start with 'Obj\\x01' (byte offset 0)`, { path, offset: 0 });
  }
  let pos = 4;
  const metadata: Record<string, string> = {};
  const dec = new TextDecoder();
  for (;;) {
    const c = readLong(bytes, pos);
    if (!c) return undefined;
    let [count, p] = c;
    if (Number.isNaN(count)) throw new AvroError('corrupt-file', `corrupt Avro header in ${path} at byte offset ${pos}`, { path, offset: pos });
    if (count === 0) { pos = p; break; }
    if (count < 0) { const s = readLong(bytes, p); if (!s) return undefined; p = s[1]; count = -count; }
    for (let i = 0; i < count; i++) {
      const kl = readLong(bytes, p); if (!kl) return undefined;
      if (kl[1] + kl[0] > bytes.length) return undefined;
      const key = dec.decode(bytes.subarray(kl[1], kl[1] + kl[0]));
      p = kl[1] + kl[0];
      const vl = readLong(bytes, p); if (!vl) return undefined;
      if (vl[1] + vl[0] > bytes.length) return undefined;
      metadata[key] = dec.decode(bytes.subarray(vl[1], vl[1] + vl[0]));
      p = vl[1] + vl[0];
    }
    pos = p;
  }
  if (pos + 16 > bytes.length) return undefined;
  const sync = bytes.slice(pos, pos + 16);
  const schema = metadata['avro.schema'];
  if (schema === undefined) throw new AvroError('corrupt-file', `${path} has no avro.schema in its header`, { path, offset: 4 });
  let type: AvroType;
  try { type = avroType(schema); } catch (e) {
    throw new AvroError('corrupt-file', `${path} has an unreadable schema in its header: ${(e as Error).message}`, { path, offset: 4, cause: e });
  }
  return { type, codec: codecByName(metadata['avro.codec'] ?? 'null', path), sync, metadata, end: pos + 16 };
}

/**
 * Reads the block starting at `pos` of `bytes`, whose first byte is at file offset `base`. Returns `undefined`
 * when `bytes` ends before the block does. Throws an {@link AvroError} `corrupt-file` with the path and byte offset
 * when the block is malformed or not followed by the file's sync marker.
 */
export function readBlock(header: ContainerHeader, bytes: Uint8Array, pos: number, base = 0, path = '(bytes)'): ContainerBlock | undefined {
  const c = readLong(bytes, pos);
  if (!c) return undefined;
  const s = readLong(bytes, c[1]);
  if (!s) return undefined;
  const [count, p1] = c;
  const [size, p2] = s;
  const at = base + pos;
  if (!(count > 0) || !(size >= 0) || size > 1 << 30) {
    throw new AvroError('corrupt-file', `corrupt Avro block in ${path} at byte offset ${at}: record count ${count}, size ${size}`, { path, offset: at });
  }
  const end = p2 + size + 16;
  if (end > bytes.length) return undefined;
  for (let i = 0; i < 16; i++) {
    if (bytes[p2 + size + i] !== header.sync[i]) {
      throw new AvroError('corrupt-file', `corrupt Avro block in ${path} at byte offset ${at}: the sync marker after it (at byte offset ${base + p2 + size}) does not match the file's`, { path, offset: at });
    }
  }
  return { start: at, end: base + end, count, payload: bytes.subarray(p2, p2 + size) };
}

/** The first position ≥ `from` in `bytes` where the sync marker starts, or -1. */
export function findSync(bytes: Uint8Array, sync: Uint8Array, from: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.indexOf(Buffer.from(sync.buffer, sync.byteOffset, 16), Math.max(0, from));
}

/** Decodes a block read from a file with `header`. */
export class BlockDecoder<T = unknown> {
  readonly reader: AvroType;
  private readonly resolver: ReturnType<typeof resolverFor>;
  /**
   * @param readerSchema - the schema to read as (schema evolution); default the writer's
   * @throws AvroError `schema-mismatch` naming the offending field when the reader schema cannot read the writer's
   */
  constructor(readonly header: ContainerHeader, readerSchema?: AvroSchema, readonly path = '(bytes)') {
    this.reader = readerSchema === undefined ? header.type : avroType(readerSchema);
    this.resolver = resolverFor(this.reader, header.type, path);
  }

  /** The block's records, appended to `out`. Throws an {@link AvroError} `corrupt-file` with path and offset. */
  decode(block: ContainerBlock, out: T[] = []): T[] {
    let data: Buffer;
    try {
      const raw = this.header.codec.decompress(block.payload);
      data = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (e) {
      throw new AvroError('corrupt-file', `corrupt Avro block in ${this.path} at byte offset ${block.start}: ${this.header.codec.name} decompression failed (${(e as Error).message})`, { path: this.path, offset: block.start, cause: e });
    }
    let pos = 0;
    const type = this.reader;
    const resolver = this.resolver as never;
    for (let i = 0; i < block.count; i++) {
      let r: { value: unknown; offset: number };
      try { r = type.decode(data, pos, resolver); } catch (e) {
        throw new AvroError('corrupt-file', `corrupt Avro block in ${this.path} at byte offset ${block.start}: record ${i} cannot be decoded (${(e as Error).message})`, { path: this.path, offset: block.start, cause: e });
      }
      if (r.offset < 0) throw new AvroError('corrupt-file', `corrupt Avro block in ${this.path} at byte offset ${block.start}: it ends inside record ${i} of ${block.count}`, { path: this.path, offset: block.start });
      out.push(r.value as T);
      pos = r.offset;
    }
    return out;
  }
}

/** Reads a whole container file held in memory: its header and every record (as `readerSchema`, if given). */
export function readContainer<T = unknown>(bytes: Uint8Array, opts: { readerSchema?: AvroSchema; path?: string } = {}): { header: ContainerHeader; records: T[] } {
  const path = opts.path ?? '(bytes)';
  const header = parseHeader(bytes, path);
  if (!header) throw new AvroError('corrupt-file', `${path} ends inside its Avro header (${bytes.length} bytes)`, { path, offset: bytes.length });
  const decoder = new BlockDecoder<T>(header, opts.readerSchema, path);
  const records: T[] = [];
  let pos = header.end;
  while (pos < bytes.length) {
    const block = readBlock(header, bytes, pos, 0, path);
    if (!block) throw new AvroError('corrupt-file', `${path} ends inside the Avro block at byte offset ${pos} (truncated file)`, { path, offset: pos });
    decoder.decode(block, records);
    pos = block.end;
  }
  return { header, records };
}
