import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MillraceError } from '@millrace/core';
import { HdfsError, LocalFileStore, fileSink, fileSource, jsonLinesFormat } from '../src/index.js';
import { ProgressReporter } from '../src/progress.js';

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof HdfsError && e instanceof MillraceError && e.code === 'invalid' && pattern.test(e.message);

it('a file source or sink given no options, or without a required one, fails saying what to pass', () => {
  assert.throws(() => (fileSource as (o?: unknown) => unknown)(), invalid(/^fileSource: options are required, e\.g\. fileSource\(\{ fs: /));
  assert.throws(() => (fileSink as (o?: unknown) => unknown)(), invalid(/^fileSink: options are required/));
  const fs = new LocalFileStore('/tmp');
  assert.throws(() => fileSink({ path: '/out', format: jsonLinesFormat() } as never), invalid(/^fileSink: fs is required, e\.g\. fileSink\(\{ fs: new WebHdfsFileSystem/));
  assert.throws(() => fileSource({ fs } as never), invalid(/^fileSource: paths, format are required/));
});

it('without a terminal, progress prints a line per 10 % step passed, and the end only when it is new', () => {
  const lines: string[] = [];
  const out = { isTTY: false, write: (s: string) => { lines.push(s.trim()); return true; } } as unknown as NodeJS.WriteStream;
  const p = new ProgressReporter('read', 1000, 0, out);
  for (const [done, t] of [[50, 1], [250, 2], [260, 3], [500, 4], [1000, 5]] as const) p.update(done, t * 1000);
  p.update(1000, 6000, true);
  assert.deepEqual(lines.map((l) => /: (\d+)%/.exec(l)![1]), ['5', '25', '50', '100']);
  const partial: string[] = [];
  const q = new ProgressReporter('read', 1000, 0, { isTTY: false, write: (s: string) => { partial.push(s.trim()); return true; } } as unknown as NodeJS.WriteStream);
  q.update(950, 1000);
  q.update(990, 2000, true); // same 10 % step: nothing new to say
  assert.equal(partial.length, 1);
});
