import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';

// DESIGN.md §1: connectors depend on @millrace/core's SPI only, never on @millrace/runtime (tests may use it).
test('src imports only @millrace/core, rxjs and its own modules', async () => {
  const dir = new URL('../src/', import.meta.url);
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@millrace/core', 'rxjs']);
  const seen = new Set<string>();
  for (const file of await readdir(dir)) {
    const text = await readFile(new URL(file, dir), 'utf8');
    for (const [, spec] of text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gm)) {
      seen.add(spec!);
      assert.ok(spec === '@millrace/core' || spec === 'rxjs' || spec!.startsWith('./'), `${file} imports '${spec}'`);
    }
  }
  assert.ok(seen.has('@millrace/core') && seen.has('rxjs'), 'the import scan found the imports');
});
