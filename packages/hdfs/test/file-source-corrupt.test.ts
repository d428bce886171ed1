import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, sinks, type DeadLetter } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { AvroError, ContainerWriter, parseHeader, readBlock } from '@millrace/avro';
import { HdfsError, LocalFileStore, avroInput, fileSource, jsonLinesInput, type SkippedSplit } from '../src/index.js';

const schema = { type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }] } as const;
interface R { id: number; name: string }
const FILES = 5;
const PER_FILE = 300;
const CORRUPT = '/in/f2.avro';

/** Blocks of a clean container file: where each starts and how many records it holds. */
function blocksOf(bytes: Uint8Array): Array<{ start: number; end: number; count: number; first: number }> {
  const header = parseHeader(bytes)!;
  const out: Array<{ start: number; end: number; count: number; first: number }> = [];
  let first = 0;
  for (let pos = header.end; pos < bytes.length; ) {
    const b = readBlock(header, bytes, pos)!;
    out.push({ start: b.start, end: b.end, count: b.count, first });
    first += b.count;
    pos = b.end;
  }
  return out;
}

/**
 * Five Avro files of 300 records (ids 0…1499, small blocks); the middle one has a damaged sync marker after its
 * fourth block, so that block and the rest of the file cannot be read. Returns the store and the damaged block.
 */
async function corruptInput(t: { after: (fn: () => unknown) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'millrace-corrupt-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const fs = new LocalFileStore(root);
  let bad: { start: number; end: number; count: number; first: number } | undefined;
  for (let f = 0; f < FILES; f++) {
    const records: R[] = Array.from({ length: PER_FILE }, (_, i) => ({ id: f * PER_FILE + i, name: `name-${i % 23}` }));
    const w = new ContainerWriter<R>(schema, { codec: 'null', blockSize: 512 });
    const bytes = new Uint8Array(Buffer.concat([w.header(), (w.append(records), w.end())]));
    if (`/in/f${f}.avro` === CORRUPT) {
      const blocks = blocksOf(bytes);
      assert.ok(blocks.length >= 6, `${blocks.length} blocks`);
      bad = blocks[3]!;
      for (let i = bad.end - 16; i < bad.end; i++) bytes[i] = bytes[i]! ^ 0xff;
    }
    await fs.writeFile(`/in/f${f}.avro`, bytes);
  }
  return { fs, bad: bad!, all: FILES * PER_FILE };
}

/** The corrupt file with its damage undone: the layout of blocks the writer made. */
async function cleanCopy(fs: LocalFileStore, bad: { end: number }): Promise<Uint8Array> {
  const clean = (await fs.readFile(CORRUPT)).slice();
  for (let i = bad.end - 16; i < bad.end; i++) clean[i] = clean[i]! ^ 0xff;
  return clean;
}

/** Nothing vanishes silently: the records read plus those of the blocks the dead letters name are all there were. */
async function assertNothingVanishes(fs: LocalFileStore, bad: { end: number }, read: readonly number[], letters: readonly DeadLetter<SkippedSplit>[], all: number): Promise<void> {
  assert.ok(letters.every((d) => d.value.path === CORRUPT), JSON.stringify(letters));
  const blocks = blocksOf(await cleanCopy(fs, bad));
  const reported = blocks.filter((b) => letters.some((d) => b.start >= d.value.offset && b.start < d.value.end));
  const inRanges = reported.reduce((n, b) => n + b.count, 0);
  assert.equal(read.length + inRanges, all, `${read.length} read + ${inRanges} in the ranges reported: ${JSON.stringify(letters.map((d) => d.value))}`);
}

describe('file source: corrupt files', () => {
  it("onCorrupt: 'skip' sends the corrupt part of a file to env.deadLetters() with its path and byte range, and reads every other record", async (t) => {
    const { fs, bad, all } = await corruptInput(t);
    const out = sinks.collect<R>();
    const dead = sinks.collect<DeadLetter<SkippedSplit>>();
    const logs: string[] = [];
    const called: SkippedSplit[] = [];
    const result = await runJob(defineJob('corrupt-skip', (env) => {
      env.fromSource(fileSource<R>({ fs, paths: '/in/*.avro', format: avroInput<R>(), onCorrupt: 'skip', progress: false, log: (m) => logs.push(m), deadLetters: (s) => called.push(s) }), { uid: 'history' })
        .sinkTo(out, { uid: 'out' });
      env.deadLetters().sinkTo(dead, { uid: 'dead-letters' });
    })).done;

    const letters = dead.values();
    assert.equal(letters.length, 1, JSON.stringify(letters));
    const dl = letters[0]!;
    assert.equal(dl.uid, 'history');
    assert.equal(dl.errorType, 'AvroError');
    // The damaged marker ends the corrupt block and the one after it: reading goes on at the next intact marker.
    const blocks = blocksOf(await cleanCopy(fs, bad));
    const after = blocks[blocks.findIndex((b) => b.start === bad.start) + 2]!;
    assert.deepEqual({ ...dl.value, error: undefined }, { path: CORRUPT, splitStart: 0, splitEnd: (await fs.status(CORRUPT))!.length, offset: bad.start, end: after.start, error: undefined });
    assert.match(dl.error, new RegExp(`corrupt Avro block in ${CORRUPT} at byte offset ${bad.start}: the sync marker`));
    assert.deepEqual(called, [dl.value], 'the deadLetters callback gets the same');
    assert.equal(logs.filter((m) => m.includes(`skipped bytes ${bad.start} to ${after.start} of ${CORRUPT} (split ${CORRUPT}@0, onCorrupt: 'skip', sent to the job's dead letters), reading on from byte ${after.start}`)).length, 1, logs.join('\n'));
    assert.equal(result.metrics.reduce((n, m) => n + m.deadLetters, 0), 1, 'counted in the metrics');

    const read = out.values().map((r) => r.id).sort((a, b) => a - b);
    await assertNothingVanishes(fs, bad, read, letters, all);
    const from = 2 * PER_FILE + bad.first;
    const to = 2 * PER_FILE + after.first;
    assert.deepEqual(read, [...Array(all).keys()].filter((id) => id < from || id >= to), 'every record outside the two skipped blocks, once');
  });

  it("onCorrupt: 'skip' with a split boundary inside the corrupt block: what the next split cannot read is reported too", async (t) => {
    const { fs, bad, all } = await corruptInput(t);
    // The block after the corrupt one starts in the second split, right after the damaged sync marker.
    const splitBytes = bad.end - 8;
    const out = sinks.collect<R>();
    const dead = sinks.collect<DeadLetter<SkippedSplit>>();
    await runJob(defineJob('corrupt-skip-splits', (env) => {
      env.fromSource(fileSource<R>({ fs, paths: '/in/*.avro', format: avroInput<R>(), splitBytes, onCorrupt: 'skip', progress: false, log: () => {} }), { uid: 'history' }).sinkTo(out, { uid: 'out' });
      env.deadLetters().sinkTo(dead, { uid: 'dead-letters' });
    }, { parallelism: 2 }), { workers: 0 }).done;
    const letters = dead.values();
    assert.ok(letters.length >= 1, 'reported');
    const read = out.values().map((r) => r.id);
    assert.equal(new Set(read).size, read.length, 'no record twice');
    await assertNothingVanishes(fs, bad, read, letters, all);
  });

  it("onCorrupt: 'skip' without env.deadLetters() logs the skipped range and goes on", async (t) => {
    const { fs, bad, all } = await corruptInput(t);
    const out = sinks.collect<R>();
    const logs: string[] = [];
    await runJob(defineJob('corrupt-skip-no-dl', (env) => {
      env.fromSource(fileSource<R>({ fs, paths: '/in/*.avro', format: avroInput<R>(), onCorrupt: 'skip', progress: false, log: (m) => logs.push(m) }), { uid: 'history' }).sinkTo(out, { uid: 'out' });
    })).done;
    const blocks = blocksOf(await cleanCopy(fs, bad));
    const i = blocks.findIndex((b) => b.start === bad.start);
    assert.equal(out.values().length, all - bad.count - blocks[i + 1]!.count);
    assert.equal(logs.filter((m) => m.includes(`skipped bytes ${bad.start} to ${blocks[i + 2]!.start} of ${CORRUPT} (split ${CORRUPT}@0, onCorrupt: 'skip')`)).length, 1, logs.join('\n'));
  });

  it("by default (onCorrupt: 'fail') a corrupt file fails the job naming the file and the byte offset", async (t) => {
    const { fs, bad } = await corruptInput(t);
    await assert.rejects(runJob(defineJob('corrupt-fail', (env) => {
      env.fromSource(fileSource<R>({ fs, paths: '/in/*.avro', format: avroInput<R>(), progress: false, log: () => {} }), { uid: 'history' }).sinkTo(sinks.collect<R>(), { uid: 'out' });
      env.deadLetters().sinkTo(sinks.collect(), { uid: 'dead-letters' });
    })).done, (e: unknown) => e instanceof AvroError && e.code === 'corrupt-file' && e.path === CORRUPT && e.offset === bad.start
      && e.message.includes(`corrupt Avro block in ${CORRUPT} at byte offset ${bad.start}`));
  });

  it("JSON lines: 'skip' keeps the lines before a line that is not JSON and reports its byte offset", async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-corrupt-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    await fs.writeFile('/in/a.jsonl', Buffer.from('{"id":0}\n{"id":1}\n'));
    const good = '{"id":2}\n{"id":3}\n';
    await fs.writeFile('/in/b.jsonl', Buffer.from(`${good}{"id":4,\n{"id":5}\n`));
    await fs.writeFile('/in/c.jsonl', Buffer.from('{"id":6}\n'));
    const read = async (onCorrupt: 'skip' | 'fail') => {
      const out = sinks.collect<{ id: number }>();
      const dead = sinks.collect<DeadLetter<SkippedSplit>>();
      await runJob(defineJob('jsonl-corrupt', (env) => {
        env.fromSource(fileSource<{ id: number }>({ fs, paths: '/in', format: jsonLinesInput(), onCorrupt, progress: false, log: () => {} }), { uid: 'lines' }).sinkTo(out, { uid: 'out' });
        env.deadLetters().sinkTo(dead, { uid: 'dead-letters' });
      })).done;
      return { ids: out.values().map((r) => r.id).sort((a, b) => a - b), dead: dead.values() };
    };
    const { ids, dead } = await read('skip');
    assert.deepEqual(ids, [0, 1, 2, 3, 6]);
    assert.deepEqual(dead.map((d) => [d.value.path, d.value.offset, d.errorType]), [['/in/b.jsonl', good.length, 'HdfsError']]);
    assert.match(dead[0]!.error, new RegExp(`/in/b.jsonl: the line at byte offset ${good.length} is not JSON`));
    await assert.rejects(read('fail'), (e: unknown) => e instanceof HdfsError && e.code === 'corrupt' && e.path === '/in/b.jsonl' && e.offset === good.length
      && e.message.includes(`the line at byte offset ${good.length} is not JSON`));
  });

  it('the Avro split reader skips a damaged block to the next intact sync marker, and a damaged end to the end of the file', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-corrupt-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    const records: R[] = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `n${i}` }));
    const w = new ContainerWriter<R>(schema, { codec: 'null', blockSize: 256 });
    const clean = new Uint8Array(Buffer.concat([w.header(), (w.append(records), w.end())]));
    const blocks = blocksOf(clean);
    const readAll = async (bytes: Uint8Array) => {
      await fs.writeFile('/f.avro', bytes);
      const split = { id: '/f.avro@0', path: '/f.avro', start: 0, end: bytes.length, fileLength: bytes.length };
      const reader = avroInput<R>().open(fs, split);
      const ids: number[] = [];
      const skipped: Array<[number, number]> = [];
      for (;;) {
        let b;
        try { b = await reader.nextBlock(); } catch (e) {
          skipped.push([(e as AvroError).offset!, await reader.skipCorrupt!()]);
          continue;
        }
        if (!b) break;
        ids.push(...b.records.map((r) => r.id));
      }
      return { ids, skipped };
    };
    // A negative record count at the start of block 2 (its marker is intact): only block 2 is lost.
    const badCount = clean.slice();
    badCount[blocks[2]!.start] = 0x01;
    const a = await readAll(badCount);
    assert.deepEqual(a.skipped, [[blocks[2]!.start, blocks[3]!.start]]);
    assert.deepEqual(a.ids, records.map((r) => r.id).filter((id) => id < blocks[2]!.first || id >= blocks[3]!.first));
    // The last block's marker damaged: nothing follows, the rest of the file is skipped (and the search ends).
    const last = blocks[blocks.length - 1]!;
    const badEnd = clean.slice();
    badEnd[last.end - 1] = badEnd[last.end - 1]! ^ 0xff;
    const b = await readAll(badEnd);
    assert.deepEqual(b.skipped, [[last.start, clean.length]]);
    assert.equal(b.ids.length, records.length - last.count);
    // A truncated file: the block cut off is reported up to the file's end.
    const cut = clean.slice(0, last.start + 10);
    const c = await readAll(cut);
    assert.deepEqual(c.skipped, [[last.start, cut.length]]);
    assert.equal(c.ids.length, records.length - last.count);
  });
});
