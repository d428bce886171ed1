import { AvroError } from './errors.js';
import { assertValid, avroType, resolverFor, type AvroSchema, type AvroType } from './schema.js';
import type { PreparedSerde } from './serde.js';

/** The first byte of the Confluent wire format, then a 4-byte big-endian schema id, then the Avro body. */
export const CONFLUENT_MAGIC_BYTE = 0;

/**
 * A small client for a Confluent-compatible schema registry (Confluent Schema Registry, Apicurio and Karapace in
 * compatibility mode). Uses two endpoints: `POST /subjects/{subject}/versions` (register, or find the id of an
 * already registered schema) and `GET /schemas/ids/{id}`. Results are cached.
 */
export class SchemaRegistryClient {
  private readonly byId = new Map<number, Promise<AvroType>>();
  private readonly ids = new Map<string, Promise<number>>();
  constructor(readonly url: string, private readonly headers: Record<string, string> = {}) {}

  /** Registers `schema` under `subject` (idempotent: an equal schema keeps its id) and returns its id. */
  register(subject: string, schema: AvroSchema): Promise<number> {
    const text = JSON.stringify(avroType(schema).schema({ exportAttrs: true }));
    const key = `${subject}\n${text}`;
    let p = this.ids.get(key);
    if (!p) {
      p = this.call<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: text }).then((r) => r.id);
      p.catch(() => this.ids.delete(key));
      this.ids.set(key, p);
    }
    return p;
  }

  /** The writer schema with this id. */
  schemaById(id: number): Promise<AvroType> {
    let p = this.byId.get(id);
    if (!p) {
      p = this.call<{ schema: string }>('GET', `/schemas/ids/${id}`).then((r) => avroType(r.schema));
      p.catch(() => this.byId.delete(id));
      this.byId.set(id, p);
    }
    return p;
  }

  private async call<R>(method: string, path: string, body?: unknown): Promise<R> {
    const target = `${this.url.replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers: { accept: 'application/vnd.schemaregistry.v1+json', ...(body ? { 'content-type': 'application/vnd.schemaregistry.v1+json' } : {}), ...this.headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new AvroError('registry', `schema registry ${method} ${target} failed: ${(e as Error).message}. Check the registry URL and that it runs.`, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try { msg = (JSON.parse(text) as { message?: string }).message ?? text; } catch { /* not JSON */ }
      throw new AvroError('registry', `schema registry ${method} ${target} answered ${res.status}: ${msg}`);
    }
    return JSON.parse(text) as R;
  }
}

/** Options of {@link schemaRegistrySerde}. */
export interface SchemaRegistrySerdeOptions {
  /** The registry's base URL, e.g. `http://registry:8081`, or a client to share. */
  readonly registry: string | SchemaRegistryClient;
  /** The subject to register the writer schema under, e.g. `readings-value` (TopicNameStrategy). */
  readonly subject: string;
  /** The schema values are written with, and read as (readers resolve each writer schema to it). */
  readonly schema: AvroSchema;
  /** Check each value before encoding (default true). */
  readonly validate?: boolean;
}

/**
 * A serde for the Confluent schema-registry wire format (magic byte 0, 4-byte schema id, Avro body). Registers the
 * schema once (async, before it returns), so `serialize` is synchronous. Reading resolves each value to `schema`
 * (schema evolution): `deserialize` decodes at once when the value's writer schema is loaded, else returns a promise
 * that fetches it by id first (once per id); `prepare(batch)` loads them ahead for a batch.
 */
export async function schemaRegistrySerde<T>(opts: SchemaRegistrySerdeOptions): Promise<PreparedSerde<T>> {
  const client = typeof opts.registry === 'string' ? new SchemaRegistryClient(opts.registry) : opts.registry;
  const type = avroType(opts.schema);
  const id = await client.register(opts.subject, type);
  const validate = opts.validate ?? true;
  type Writer = { type: AvroType; resolver: ReturnType<typeof resolverFor> };
  const writers = new Map<number, Writer>();
  writers.set(id, { type, resolver: undefined });
  const idOf = (bytes: Uint8Array): number => {
    if (bytes.byteLength < 5 || bytes[0] !== CONFLUENT_MAGIC_BYTE) {
      throw new AvroError('corrupt-file', `not in the schema-registry wire format: expected magic byte 0 and a 4-byte schema id, got ${bytes.byteLength} byte(s) starting with ${bytes[0] ?? 'nothing'}`);
    }
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(1);
  };
  const load = async (i: number): Promise<Writer> => {
    const w = await client.schemaById(i);
    const loaded = writers.get(i) ?? { type: w, resolver: resolverFor(type, w, `schema id ${i}`) };
    writers.set(i, loaded);
    return loaded;
  };
  const decode = (bytes: Uint8Array, w: Writer): T => {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset + 5, bytes.byteLength - 5);
    try {
      return type.fromBuffer(buf, w.resolver as never) as T;
    } catch (e) {
      throw new AvroError('corrupt-file', `cannot decode ${bytes.byteLength} bytes (schema id ${idOf(bytes)}, subject ${opts.subject}) as ${type.name ?? type.typeName}: ${(e as Error).message}`, { cause: e });
    }
  };
  return {
    name: `schema-registry(${opts.subject})`,
    serialize(value) {
      if (validate) assertValid(type, value, `subject ${opts.subject}`);
      const body = type.toBuffer(value);
      const out = Buffer.allocUnsafe(body.length + 5);
      out[0] = CONFLUENT_MAGIC_BYTE;
      out.writeInt32BE(id, 1);
      body.copy(out, 5);
      return out;
    },
    async prepare(batch) {
      const missing = new Set<number>();
      for (const b of batch) { const i = idOf(b); if (!writers.has(i)) missing.add(i); }
      for (const i of missing) await load(i);
    },
    deserialize(bytes) {
      if (bytes === null) return null as T;
      const i = idOf(bytes);
      const w = writers.get(i);
      if (!w) return load(i).then((loaded) => decode(bytes, loaded));
      return decode(bytes, w);
    },
  };
}
