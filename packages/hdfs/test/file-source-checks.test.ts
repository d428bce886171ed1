/**
 * What a new user mistypes in a file source fails, naming what and where, rather than reading nothing or
 * everything and exiting 0: relative paths and bad partition filters when the source is created, globs matching
 * no file and filters on columns no path has when the job starts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob, sinks } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { HdfsError, LocalFileStore, fileSource, jsonLinesInput, type FileSourceOptions } from '../src/index.js';

interface R { v: number }

async function store(t: { after(fn: () => Promise<void>): void }): Promise<LocalFileStore> {
  const root = await mkdtemp(join(tmpdir(), 'millrace-src-checks-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const fs = new LocalFileStore(root);
  for (const [dt, hour, v] of [['2026-11-01', 10, 1], ['2026-11-01', 11, 2], ['2026-11-02', 10, 3]] as const) {
    await fs.writeFile(`/out/dt=${dt}/hour=${hour}/part-0-0.jsonl`, Buffer.from(`{"v":${v}}\n`));
  }
  await fs.writeFile('/out/dt=2026-11-02/hour=11/.part-0-1.jsonl.inprogress', Buffer.from('{"v":4}\n'));
  return fs;
}

/** The values read, sorted. */
async function read(opts: Omit<FileSourceOptions<R>, 'format'>): Promise<number[]> {
  const out = sinks.collect<R>();
  await runJob(defineJob('read', (env) => {
    env.fromSource(fileSource<R>({ format: jsonLinesInput<R>(), progress: false, ...opts }), { uid: 'src' }).sinkTo(out, { uid: 'out' });
  }, { parallelism: 2 }), { workers: 0 }).done;
  return out.values().map((r) => r.v).sort((a, b) => a - b);
}

/** The HdfsError a rejection carries (the runtime may wrap it). */
function hdfsError(e: unknown): HdfsError | undefined {
  for (let x = e; x; x = (x as { cause?: unknown }).cause) if (x instanceof HdfsError) return x;
  return undefined;
}

describe('file source checks', () => {
  it('a relative path or glob fails when the source is created, naming it', async (t) => {
    const fs = await store(t);
    for (const paths of ['out/dt=*/hour=*/*.jsonl', ['/out', 'out']]) {
      assert.throws(() => fileSource({ fs, paths, format: jsonLinesInput() }), (e: unknown) => e instanceof HdfsError && e.code === 'invalid' && /paths must be absolute on file:\/\/.*, got 'out/.test(e.message), String(paths));
    }
  });

  it('a filter whose value starts with an operator fails when the source is created, naming it and the valid forms', async (t) => {
    const fs = await store(t);
    const bad = (partitions: string[], why: RegExp) => assert.throws(() => fileSource({ fs, paths: '/out/dt=*/hour=*/*.jsonl', partitions, format: jsonLinesInput() }),
      (e: unknown) => e instanceof HdfsError && e.code === 'invalid' && e.message.includes(`partition filter '${partitions[0]}'`) && /op one of = != < <= > >=/.test(e.message) && why.test(e.message), partitions[0]);
    bad(['dt=>2026-11-01'], /value '>2026-11-01' starts with an operator character \(did you mean 'dt>=2026-11-01'\?\)/);
    bad(['hour=<12'], /did you mean 'hour<=12'/);
    bad(['dt==2026-11-01'], /value '=2026-11-01' starts with an operator/);
    bad(['dt'], /does not parse/);
    assert.throws(() => fileSource({ fs, paths: '/out', partitions: [{ column: 'dt', op: '=', value: '>1' }], format: jsonLinesInput() }), /starts with an operator character/);
  });

  it('a filter on a column the globs do not have fails when the source is created, naming the columns', async (t) => {
    const fs = await store(t);
    assert.throws(() => fileSource({ fs, paths: '/out/dt=*/hour=*/*.jsonl', partitions: ['dt>=2026-11-01', 'foo=1'], format: jsonLinesInput() }),
      (e: unknown) => e instanceof HdfsError && e.code === 'invalid' && /partition filter 'foo=1' is on the column 'foo', which the path pattern '\/out\/dt=\*\/hour=\*\/\*\.jsonl' does not have \(its columns: dt, hour\)/.test(e.message));
  });

  it('a filter on a column no path has fails the job when the globs cannot tell, naming the columns seen', async (t) => {
    const fs = await store(t);
    for (const paths of ['/out', '/out/**/*.jsonl', '/out/*/*/*.jsonl']) {
      await assert.rejects(read({ fs, paths, partitions: ['foo=1'] }), (e: unknown) => {
        const h = hdfsError(e);
        return h?.code === 'invalid' && /^file source 'src': partition filter 'foo=1' is on the column 'foo', but no path matching .* has it \(columns seen: dt, hour\)/.test(h.message);
      }, paths);
    }
    assert.deepEqual(await read({ fs, paths: '/out', partitions: ['hour>10'] }), [2]);
  });

  it('a path or glob matching no file fails the job naming it and the directory listed, unless allowEmpty', async (t) => {
    const fs = await store(t);
    const noMatch = (paths: string, where: RegExp) => assert.rejects(read({ fs, paths }), (e: unknown) => {
      const h = hdfsError(e);
      return h?.code === 'not-found' && h.message.includes(`file source 'src': '${paths}' matches no file on file://`) && where.test(h.message) && /allowEmpty: true/.test(h.message);
    }, paths);
    await noMatch('/out/dt=*/hour=*/*.avro', /listed \/out and 6 directories below it, 4 file\(s\), none matching/);
    await noMatch('/missing/dt=*/*.jsonl', /the directory \/missing does not exist/);
    await noMatch('/missing', /\/missing does not exist/);
    await noMatch('/out/dt=2026-11-02/hour=11/*', /1 hidden file\(s\) match/);
    const logs: string[] = [];
    assert.deepEqual(await read({ fs, paths: ['/out/dt=*/hour=*/*.avro', '/out/dt=2026-11-02/*/*.jsonl'], allowEmpty: true, log: (m) => logs.push(m) }), [3]);
    assert.equal(logs.filter((m) => /warning: file source: '\/out\/dt=\*\/hour=\*\/\*\.avro' matches no file .*allowEmpty: true/.test(m)).length, 1, logs.join('\n'));
    // Files that the partition filters exclude were matched: no data for those partitions is no error.
    assert.deepEqual(await read({ fs, paths: '/out/dt=*/hour=*/*.jsonl', partitions: ['dt>2030-01-01'] }), []);
  });
});
