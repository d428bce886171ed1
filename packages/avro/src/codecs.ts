import { crc32, deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import snappy from 'snappyjs';
import { AvroError } from './errors.js';

/** A block codec of Avro container files. */
export interface AvroCodec {
  /** The name written into the file header (`avro.codec`). */
  readonly name: string;
  compress(data: Uint8Array): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
  /**
   * The same as `compress`, run off the calling thread (zlib on libuv's thread pool), when the codec can. Used by
   * {@link ContainerWriter} with `backgroundBlocks`.
   */
  compressAsync?(data: Uint8Array): Promise<Uint8Array>;
}

/** No compression. */
export const nullCodec: AvroCodec = { name: 'null', compress: (d) => d, decompress: (d) => d };

/**
 * Deflate (raw, as the Avro spec says). Level 1 by default: on one core it encodes 1.6× faster than zlib's default
 * level for about 8% larger files (docs/performance-spikes.md §4).
 */
export function deflateCodec(level = 1): AvroCodec {
  return {
    name: 'deflate',
    compress: (d) => deflateRawSync(d, { level }),
    decompress: (d) => inflateRawSync(d),
    compressAsync: (d) => new Promise((resolve, reject) => deflateRaw(d, { level }, (e, out) => (e ? reject(e) : resolve(out)))),
  };
}

/** Snappy, as the Avro spec frames it: the compressed block followed by the CRC32 (big-endian) of the uncompressed data. */
export const snappyCodec: AvroCodec = {
  name: 'snappy',
  compress(d) {
    const c = snappy.compress(d);
    const out = new Uint8Array(c.length + 4);
    out.set(c, 0);
    new DataView(out.buffer).setUint32(c.length, crc32(d) >>> 0);
    return out;
  },
  decompress(d) {
    const data = snappy.uncompress(d.subarray(0, d.length - 4));
    const expected = new DataView(d.buffer, d.byteOffset + d.length - 4, 4).getUint32(0);
    if ((crc32(data) >>> 0) !== expected) throw new Error('snappy block checksum mismatch');
    return data;
  },
};

/** The codec named in a file header (`null`, `deflate`, `snappy`), or an {@link AvroError} naming it. */
export function codecByName(name: string, where = ''): AvroCodec {
  switch (name) {
    case 'null': return nullCodec;
    case 'deflate': return deflateCodec();
    case 'snappy': return snappyCodec;
    default: throw new AvroError('unknown-codec', `unsupported Avro codec '${name}'${where ? ` in ${where}` : ''}: Millrace reads null, deflate and snappy`, { ...(where ? { path: where } : {}) });
  }
}

/** A codec by option: a name or a codec. */
export function codecOf(c: 'null' | 'deflate' | 'snappy' | AvroCodec | undefined): AvroCodec {
  if (c === undefined || c === 'deflate') return deflateCodec(1);
  return typeof c === 'string' ? codecByName(c) : c;
}
