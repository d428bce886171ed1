import type { HeaderValue, OutgoingMessage } from './client.js';

/** An outgoing record as plain JSON, for a checkpoint: strings stay strings, bytes become base64. */
export type StoredRecord = {
  readonly k?: string | { readonly b: string } | null;
  readonly v?: string | { readonly b: string } | null;
  readonly p?: number;
  readonly t?: number;
  readonly h?: ReadonlyArray<readonly [string, string | { readonly b: string }]>;
};

const enc = (x: Uint8Array | string | null): string | { b: string } | null =>
  x === null ? null : typeof x === 'string' ? x : { b: Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64') };
const dec = (x: string | { readonly b: string } | null | undefined): Uint8Array | string | null =>
  x === null || x === undefined ? null : typeof x === 'string' ? x : Buffer.from(x.b, 'base64');

/** Stores an outgoing record in JSON-safe form. */
export function storeRecord(m: OutgoingMessage): StoredRecord {
  const r: { k?: unknown; v?: unknown; p?: number; t?: number; h?: unknown } = {};
  if (m.key !== null) r.k = enc(m.key);
  r.v = enc(m.value);
  if (m.partition !== undefined) r.p = m.partition;
  if (m.timestamp !== undefined) r.t = m.timestamp;
  if (m.headers) r.h = Object.entries(m.headers).map(([k, v]) => [k, enc(v as HeaderValue)]);
  return r as StoredRecord;
}

/** The outgoing record stored by {@link storeRecord}. */
export function loadRecord(r: StoredRecord): OutgoingMessage {
  return {
    key: dec(r.k),
    value: dec(r.v),
    ...(r.p !== undefined ? { partition: r.p } : {}),
    ...(r.t !== undefined ? { timestamp: r.t } : {}),
    ...(r.h ? { headers: Object.fromEntries(r.h.map(([k, v]) => [k, dec(v) as HeaderValue])) } : {}),
  };
}

/** Approximate size of a record on the wire, for chunking sends. */
export function approxSize(m: OutgoingMessage): number {
  const len = (x: Uint8Array | string | null | undefined): number => (x === null || x === undefined ? 0 : typeof x === 'string' ? x.length * 2 : x.byteLength);
  let n = 64 + len(m.key) + len(m.value);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + len(v as HeaderValue);
  return n;
}

/** Splits records into chunks of at most `maxBytes` (approximately) and `maxCount` records. */
export function chunk(ms: readonly OutgoingMessage[], maxBytes = 512 * 1024, maxCount = 5000): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let cur: OutgoingMessage[] = [];
  let size = 0;
  for (const m of ms) {
    const s = approxSize(m);
    if (cur.length > 0 && (size + s > maxBytes || cur.length >= maxCount)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(m);
    size += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
