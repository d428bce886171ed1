import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deepEqual as looseEqual } from 'node:assert';
import { inflateRaw } from 'node:zlib';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import avro from 'avsc';
import {
  AvroError, ContainerWriter, avroSerde, avroType, readContainer, schemaRegistrySerde, snappyCodec,
} from '../src/index.js';

const readingV1 = {
  type: 'record', name: 'Reading', namespace: 'iot',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'value', type: 'double' },
  ],
} as const;
const readingV2 = {
  type: 'record', name: 'Reading', namespace: 'iot',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'value', type: 'double' },
    { name: 'unit', type: 'string', default: 'C' },
  ],
} as const;

describe('avro serdes', () => {
  it('round-trips with logical types: timestamp-millis, decimal, uuid', () => {
    const serde = avroSerde<{ id: string; at: Date; amount: string }>({
      type: 'record', name: 'Payment', fields: [
        { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
      ],
    });
    const v = { id: '0f8fad5b-d9cb-469f-a165-70867728950e', at: new Date(1_700_000_000_123), amount: '-1234.50' };
    looseEqual(serde.deserialize(serde.serialize(v)), v);
    assert.equal(serde.deserialize(serde.serialize({ ...v, amount: '0.07' })).amount, '0.07');
    assert.throws(() => serde.serialize({ ...v, id: 'not-a-uuid' }), (e: AvroError) => e.field === 'id' && /field 'id'/.test(e.message));
    assert.throws(() => serde.serialize({ ...v, amount: '123456789.12' }), (e: AvroError) => e.field === 'amount');
    // The shape of @millrace/kafka's Serde: a name, and a Kafka null (tombstone) reads as null.
    assert.equal(serde.name, 'avro(Payment)');
    assert.equal(serde.deserialize(null), null);
  });

  it('reads old data with a newer reader schema (added field with default)', () => {
    const old = avroSerde(readingV1);
    const bytes = old.serialize({ device: 'd1', ts: new Date(5), value: 1.5 });
    const v2 = avroSerde(readingV1, { readerSchema: readingV2 });
    looseEqual(v2.deserialize(bytes), { device: 'd1', ts: new Date(5), value: 1.5, unit: 'C' });
  });

  it('names the offending field when schemas are incompatible', () => {
    const bad = { ...readingV2, fields: [...readingV2.fields.slice(0, 3), { name: 'unit', type: 'string' }] };
    assert.throws(() => avroSerde(readingV1, { readerSchema: bad }), (e: AvroError) => e.code === 'schema-mismatch' && e.field === 'unit' && /no default/.test(e.message));
    const wrongType = { ...readingV1, fields: [readingV1.fields[0], readingV1.fields[1], { name: 'value', type: 'string' }] };
    assert.throws(() => avroSerde(readingV1, { readerSchema: wrongType }), (e: AvroError) => e.field === 'value' && /double/.test(e.message));
    assert.throws(() => avroSerde(readingV1).serialize({ device: 'd', ts: new Date(1) } as never), (e: AvroError) => e.field === 'value');
  });

  it('speaks the Confluent wire format against a schema registry', async () => {
    // A tiny in-process fake of the two registry endpoints the serde uses.
    const schemas: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const reg = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
        const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
        res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
        if (req.method === 'POST' && reg) {
          const s = (JSON.parse(body) as { schema: string }).schema;
          let id = schemas.indexOf(s) + 1;
          if (id === 0) id = schemas.push(s);
          res.end(JSON.stringify({ id: id + 100 }));
        } else if (req.method === 'GET' && get && schemas[Number(get[1]) - 101]) {
          res.end(JSON.stringify({ schema: schemas[Number(get[1]) - 101] }));
        } else { res.statusCode = 404; res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' })); }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const v1 = await schemaRegistrySerde({ registry: url, subject: 'readings-value', schema: readingV1 });
      const bytes = v1.serialize({ device: 'd1', ts: new Date(7), value: 2 });
      assert.equal(bytes[0], 0);
      assert.equal(Buffer.from(bytes).readInt32BE(1), 101);
      // A reader with the newer schema registers it (id 102) and resolves data written with id 101.
      const v2 = await schemaRegistrySerde<Record<string, unknown>>({ registry: url, subject: 'readings-value', schema: readingV2 });
      await v2.prepare([bytes]);
      looseEqual(v2.deserialize(bytes), { device: 'd1', ts: new Date(7), value: 2, unit: 'C' });
      // Without prepare (as the Kafka source calls it): a promise that fetches the writer schema once, then at once.
      const v3 = await schemaRegistrySerde<Record<string, unknown>>({ registry: url, subject: 'readings-value', schema: readingV2 });
      const pending = v3.deserialize(bytes);
      assert.ok(pending instanceof Promise);
      looseEqual(await pending, { device: 'd1', ts: new Date(7), value: 2, unit: 'C' });
      looseEqual(v3.deserialize(bytes), { device: 'd1', ts: new Date(7), value: 2, unit: 'C' });
      assert.equal(v3.deserialize(null), null, 'a Kafka tombstone reads as null');
      assert.equal(v3.name, 'schema-registry(readings-value)');
      const unknown = Buffer.from(bytes); unknown.writeInt32BE(999, 1);
      await assert.rejects(async () => v3.deserialize(unknown), (e: AvroError) => e.code === 'registry' && /schemas\/ids\/999/.test(e.message));
      await assert.rejects(v2.prepare([unknown]), (e: AvroError) => e.code === 'registry' && /404/.test(e.message) && /schemas\/ids\/999/.test(e.message));
      assert.throws(() => v2.deserialize(new Uint8Array([1, 2])), /wire format/);
    } finally { server.close(); }
  });
});

describe('avro container files', () => {
  const records = Array.from({ length: 5000 }, (_, i) => ({ device: `d${i % 7}`, ts: new Date(1_000 * i), value: i / 4 }));
  for (const codec of ['deflate', 'snappy', 'null'] as const) {
    it(`writes ${codec} files that avsc's own decoder reads`, async () => {
      const w = new ContainerWriter(readingV1, { codec, blockSize: 4096 });
      const chunks = [w.header()];
      w.append(records.slice(0, 2500)); chunks.push(w.take());
      w.append(records.slice(2500)); chunks.push(w.end());
      const file = Buffer.concat(chunks);
      assert.equal(file.length, w.bytes);
      const decoded: unknown[] = [];
      const dec = new avro.streams.BlockDecoder({ codecs: { null: (b: Buffer, cb: (e: Error | null, r?: Buffer) => void) => cb(null, b), deflate: inflateRaw, snappy: (b: Buffer, cb: (e: Error | null, r?: Buffer) => void) => cb(null, Buffer.from(snappyCodec.decompress(b))) } as never });
      await new Promise<void>((resolve, reject) => {
        Readable.from([file]).pipe(dec).on('data', (r: unknown) => decoded.push(r)).on('end', resolve).on('error', reject);
      });
      assert.equal(decoded.length, records.length);
      assert.deepEqual((decoded[4999] as { value: number }).value, records[4999]!.value);
      looseEqual(readContainer(file).records, records);
      looseEqual(readContainer(file, { readerSchema: readingV2 }).records[3], { ...records[3], unit: 'C' });
    });
  }

  it('emits the header once with the first bytes taken when header() was not called (append, take, end)', async () => {
    for (const codec of ['deflate', 'snappy', 'null'] as const) {
      const w = new ContainerWriter(readingV1, { codec, blockSize: 1024 });
      w.append(records.slice(0, 300));
      const first = w.take();
      w.append(records.slice(300, 600));
      const file = Buffer.concat([first, w.take(), (w.append(records.slice(600, 900)), w.end())]);
      assert.equal(file.length, w.bytes);
      looseEqual(readContainer(file).records, records.slice(0, 900));
      // Nothing appended: the file is the header alone, read as an empty container.
      assert.deepEqual(readContainer(new ContainerWriter(readingV1, { codec }).end()).records, []);
      // header() first: take() does not repeat it.
      const h = new ContainerWriter(readingV1, { codec, blockSize: 1024 });
      const header = h.header();
      h.append(records.slice(0, 300));
      looseEqual(readContainer(Buffer.concat([header, h.take(), h.end()])).records, records.slice(0, 300));
    }
    const bg = new ContainerWriter(readingV1, { blockSize: 1024, backgroundBlocks: 2 });
    const parts: Array<Uint8Array | Promise<Uint8Array>> = [];
    for (let i = 0; i < 2000; i += 500) { bg.append(records.slice(i, i + 500)); parts.push(bg.takeBlocks()); }
    parts.push(bg.endBlocks());
    looseEqual(readContainer(Buffer.concat(await Promise.all(parts))).records, records.slice(0, 2000));
  });

  it('reports a corrupt block with its path and byte offset', () => {
    const w = new ContainerWriter(readingV1, { blockSize: 2048 });
    const file = Buffer.concat([w.header(), (w.append(records.slice(0, 1000)), w.end())]);
    const { header } = readContainer(file);
    const bad = Buffer.from(file);
    bad[header.end + 900] = bad[header.end + 900]! ^ 0xff;
    assert.throws(() => readContainer(bad, { path: '/data/x.avro' }), (e: AvroError) => e.code === 'corrupt-file' && e.path === '/data/x.avro' && typeof e.offset === 'number' && /byte offset \d+/.test(e.message));
    assert.throws(() => readContainer(file.subarray(0, file.length - 5), { path: '/t.avro' }), /truncated/);
    assert.throws(() => readContainer(Buffer.from('hello world'), { path: '/n.avro' }), /not an Avro container file/);
  });

  it('compresses blocks on the thread pool with backgroundBlocks, in order, to the same records', async () => {
    const w = new ContainerWriter(readingV1, { blockSize: 1024, backgroundBlocks: 4 });
    const chunks: Array<Uint8Array | Promise<Uint8Array>> = [w.header()];
    let estimate = 0;
    for (let i = 0; i < records.length; i += 500) {
      w.append(records.slice(i, i + 500));
      estimate = w.pendingBytes;
      chunks.push(w.takeBlocks());
    }
    chunks.push(w.endBlocks());
    assert.ok(chunks.some((c) => c instanceof Promise), 'some blocks were compressed in the background');
    const file = Buffer.concat(await Promise.all(chunks));
    assert.equal(file.length, w.bytes);
    looseEqual(readContainer(file).records, records);
    // Blocks still compressing count at the ratio of those done: the estimate before the last block is near the size.
    assert.ok(Math.abs(estimate - file.length) < 0.1 * file.length, `estimated ${estimate} bytes, wrote ${file.length}`);
    assert.throws(() => { w.append(records.slice(0, 100)); w.take(); }, /takeBlocks/);
  });

  it('fails on a record that does not match the schema, naming the field, and keeps the records before it', () => {
    const w = new ContainerWriter(readingV1, { blockSize: 4096 });
    const header = w.header();
    w.append(records.slice(0, 10));
    assert.throws(() => w.append([{ device: 'd1', ts: new Date(5), value: 'warm' } as never]), (e: AvroError) => e.code === 'invalid-value' && e.field === 'value' && /field 'value'.*"warm"/.test(e.message));
    assert.throws(() => w.append([{ device: 'd1', value: 1 } as never]), (e: AvroError) => e.code === 'invalid-value' && e.field === 'ts' && /undefined \(missing\)/.test(e.message));
    w.append(records.slice(10, 20));
    looseEqual(readContainer(Buffer.concat([header, w.end()])).records, records.slice(0, 20));
    // Without validation the error is avsc's own, but the record is still refused.
    assert.throws(() => new ContainerWriter(readingV1, { validate: false }).append([{ device: 'd1', ts: new Date(5), value: 'warm' } as never]), /invalid "double"/);
  });

  it('compiles schemas given as JSON text', () => {
    assert.equal(avroType(JSON.stringify(readingV1)).name, 'iot.Reading');
  });
});
