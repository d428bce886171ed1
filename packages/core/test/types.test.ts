import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const tsc = join(here, '..', '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');

test('the API types compile as intended: inferred types hold and every misuse in the fixture is a compile error', () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', fixtures], { encoding: 'utf8' });
  assert.equal(r.error, undefined);
  // An unused @ts-expect-error (a misuse that started compiling) or a broken Expect<Equal<…>> both fail here.
  assert.equal(r.stdout + r.stderr, '');
  assert.equal(r.status, 0);
});

test('the type fixture really contains the misuse checks (guards against an emptied fixture)', () => {
  const src = readFileSync(join(fixtures, 'types-fixture.ts'), 'utf8');
  const expected = src.split('\n').filter((l) => l.trim().startsWith('// @ts-expect-error')).length;
  assert.ok(expected >= 20, `only ${expected} @ts-expect-error lines`);
  assert.match(src, /@ts-expect-error a DataStream has no window\(\)/);
});
