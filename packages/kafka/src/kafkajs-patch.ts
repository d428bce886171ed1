/**
 * Two per-record costs of the kafkajs 2.2.4 producer, removed here (measured on the Kafka benchmark's sink, 200 k
 * records: ≈ 1.2 s of CPU together, more than the engine spends on the whole job):
 *
 * 1. `src/producer/groupMessagesPerPartition.js` builds each partition's list with `[...current, message]`, copying
 *    the list for every message: O(n²/partitions) per send (upstream PR tulios/kafkajs#1576, never released). This
 *    module loads the connector's kafkajs with a linear version of that file (same result: an object from partition
 *    to messages in send order) put into the CommonJS module cache first; see {@link kafkajs}. With another kafkajs
 *    version nothing is replaced.
 * 2. The default partitioner filters the partition list for every message and hashes keys with 64-bit `Long`
 *    arithmetic: {@link javaCompatiblePartitioner} is the same partitioner (murmur2 as Kafka's Java client, the same
 *    partition for every key; round-robin over available partitions for records without a key) with `Math.imul`,
 *    passed through the public `createPartitioner` option.
 */
import { createRequire, Module } from 'node:module';
import { dirname, sep } from 'node:path';

const require = createRequire(import.meta.url);

function linearGroupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (a: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}

type Bytes = Buffer | string | null | undefined;
interface RecordArgs { offsetDelta?: number; timestampDelta?: number; key?: Bytes; value?: Bytes; headers?: Record<string, Bytes | Bytes[]> }
interface EncoderLike { buf: Buffer; offset: number }
type EncoderClass = { prototype: object; new (): EncoderLike & Record<string, (...a: unknown[]) => EncoderLike> };

const isInt32 = (v: number): boolean => (v | 0) === v;
function varintSize(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) { u >>>= 7; n++; }
  return n;
}
function writeVarint(buf: Buffer, o: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  while (u >= 0x80) { buf[o++] = (u & 0x7f) | 0x80; u >>>= 7; }
  buf[o++] = u;
  return o;
}
const byteLen = (b: Buffer | string): number => (typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length);
function writeBytes(buf: Buffer, o: number, b: Buffer | string | null | undefined, len: number): number {
  if (b === null || b === undefined) return writeVarint(buf, o, -1);
  o = writeVarint(buf, o, len);
  if (typeof b === 'string') buf.write(b, o, len, 'utf8');
  else b.copy(buf, o);
  return o + len;
}

/**
 * kafkajs's record encoder (`src/protocol/recordBatch/record/v0`), byte for byte, into one buffer of the exact size:
 * the original allocates a zeroed 512-byte buffer per record plus a buffer per varint, which was most of the
 * producer's cost. Unusual input (timestamp deltas beyond 32 bits, header arrays, other value types) goes to
 * `slow`, the original algorithm.
 */
export function fastRecordEncoder(Encoder: EncoderClass, slow: (a: RecordArgs) => EncoderLike): (a: RecordArgs) => EncoderLike {
  return (a) => {
    const offsetDelta = a.offsetDelta ?? 0;
    const timestampDelta = a.timestampDelta ?? 0;
    const key = a.key;
    const value = a.value;
    if (!isInt32(offsetDelta) || !isInt32(timestampDelta)) return slow(a);
    if (key !== null && key !== undefined && typeof key !== 'string' && !Buffer.isBuffer(key)) return slow(a);
    if (value !== null && value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) return slow(a);
    const headers = a.headers;
    let hNames: string[] | undefined;
    let hSize = 1;
    if (headers) {
      hNames = Object.keys(headers);
      if (hNames.length > 0) {
        hSize = varintSize(hNames.length);
        for (const n of hNames) {
          const v = headers[n];
          if (v === null || v === undefined || Array.isArray(v) || (typeof v !== 'string' && !Buffer.isBuffer(v))) return slow(a);
          const kl = Buffer.byteLength(n, 'utf8');
          const vl = byteLen(v);
          hSize += varintSize(kl) + kl + varintSize(vl) + vl;
        }
      }
    }
    const kLen = key === null || key === undefined ? -1 : byteLen(key);
    const vLen = value === null || value === undefined ? -1 : byteLen(value);
    const body = 1 + varintSize(timestampDelta) + varintSize(offsetDelta)
      + (kLen < 0 ? 1 : varintSize(kLen) + kLen) + (vLen < 0 ? 1 : varintSize(vLen) + vLen) + hSize;
    const total = varintSize(body) + body;
    const buf = Buffer.allocUnsafe(total);
    let o = writeVarint(buf, 0, body);
    buf[o++] = 0;
    o = writeVarint(buf, o, timestampDelta);
    o = writeVarint(buf, o, offsetDelta);
    o = writeBytes(buf, o, key, kLen);
    o = writeBytes(buf, o, value, vLen);
    if (hNames && hNames.length > 0) {
      o = writeVarint(buf, o, hNames.length);
      for (const n of hNames) {
        const v = headers![n] as Buffer | string;
        o = writeBytes(buf, o, n, Buffer.byteLength(n, 'utf8'));
        o = writeBytes(buf, o, v, byteLen(v));
      }
    } else {
      o = writeVarint(buf, o, 0);
    }
    const e = Object.create(Encoder.prototype) as EncoderLike;
    e.buf = buf;
    e.offset = o;
    return e;
  };
}

/** kafkajs 2.2.4's record encoder as it is (for input the fast one does not cover). */
function slowRecord(Encoder: EncoderClass, Header: (h: { key: string; value: Bytes }) => EncoderLike): (a: RecordArgs) => EncoderLike {
  const E = Encoder as unknown as { new (): any; sizeOfVarLong(v: number): number; sizeOfVarInt(v: number): number; sizeOfVarIntBytes(v: Bytes): number }; // eslint-disable-line @typescript-eslint/no-explicit-any
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const headersArray = Object.keys(headers).flatMap((k) => {
      const v = headers[k];
      return Array.isArray(v) ? v.map((x) => ({ key: k, value: x })) : [{ key: k, value: v }];
    });
    let hs = E.sizeOfVarInt(headersArray.length);
    for (const h of headersArray) {
      const ks = Buffer.byteLength(h.key);
      hs += E.sizeOfVarInt(ks) + ks;
      if (h.value === null) hs += E.sizeOfVarInt(-1);
      else { const vs = Buffer.byteLength(h.value as Buffer | string); hs += E.sizeOfVarInt(vs) + vs; }
    }
    const size = 1 + E.sizeOfVarLong(timestampDelta) + E.sizeOfVarInt(offsetDelta) + E.sizeOfVarIntBytes(key) + E.sizeOfVarIntBytes(value) + hs;
    return new E().writeVarInt(size).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta)
      .writeVarIntBytes(key).writeVarIntBytes(value).writeVarIntArray(headersArray.map(Header));
  };
}

/** True when this connector's kafkajs has the linear grouping (for tests and the benchmark report). */
export let groupingPatched = false;

/**
 * kafkajs for this connector. When kafkajs is already loaded (a static `import` of it anywhere in the application is
 * evaluated before this module's body), the connector loads its own instance with the linear grouping and puts the
 * application's modules back, so the application's kafkajs is left exactly as it was.
 */
function loadKafkajs(): typeof import('kafkajs') {
  let version = '';
  let file = '';
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
    file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  } catch {
    // laid out differently: use it as it is
  }
  if (version !== '2.2.4' || !file) return require('kafkajs') as typeof import('kafkajs');
  const cache = require.cache as Record<string, unknown>;
  const root = dirname(require.resolve('kafkajs/package.json')) + sep;
  const saved = Object.keys(cache).filter((k) => k.startsWith(root)).map((k) => [k, cache[k]] as const);
  for (const [k] of saved) delete cache[k];
  const put = (f: string, exports: unknown): void => {
    const m = new Module(f);
    m.filename = f;
    m.exports = exports;
    m.loaded = true;
    cache[f] = m;
  };
  const recordFile = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  let record: unknown;
  try {
    put(file, linearGroupMessagesPerPartition);
    const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
    const Header = require('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (h: { key: string; value: Bytes }) => EncoderLike;
    record = fastRecordEncoder(Encoder, slowRecord(Encoder, Header));
    const kafkajs = require('kafkajs') as typeof import('kafkajs');
    groupingPatched = true;
    return kafkajs;
  } finally {
    if (saved.length > 0) {
      for (const k of Object.keys(cache)) if (k.startsWith(root)) delete cache[k];
      for (const [k, m] of saved) cache[k] = m;
    }
    // kafkajs loads its produce request encoders lazily, at the first send, through the module cache as it is then:
    // the record encoder stays in the cache (byte for byte the same output, so the application's kafkajs, if it
    // loads its produce encoders later, gets the same bytes faster; one that loaded them already keeps its own).
    if (record) put(recordFile, record);
  }
}

export const kafkajs = loadKafkajs();

const M = 0x5bd1e995;

/** Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`) of bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[length4 + 2]! << 16;
  if (rest >= 2) h ^= data[length4 + 1]! << 8;
  if (rest >= 1) {
    h ^= data[length4]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const scratch = new Uint8Array(256);

/** murmur2 of a key as kafkajs hashes it: a string as UTF-8, bytes as they are. */
export function murmur2Key(key: Uint8Array | string): number {
  if (typeof key !== 'string') return murmur2(key);
  const n = key.length;
  if (n <= scratch.length) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) { ascii = false; break; }
      scratch[i] = c;
    }
    if (ascii) return murmur2(scratch.subarray(0, n));
  }
  return murmur2(Buffer.from(key, 'utf8'));
}

interface PartitionMeta { readonly partitionId: number; readonly leader: number }

/** kafkajs's DefaultPartitioner (Java-compatible), without its per-message allocations. */
export function javaCompatiblePartitioner(): (a: { topic: string; partitionMetadata: readonly PartitionMeta[]; message: { partition?: number | null; key?: Uint8Array | string | null } }) => number {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) return (murmur2Key(message.key) & 0x7fffffff) % numPartitions;
    let c = counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff);
    counters.set(topic, ++c);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(c & 0x7fffffff) % available.length]!.partitionId;
    return (c & 0x7fffffff) % numPartitions;
  };
}
