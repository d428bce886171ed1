/**
 * The dependency rules of DESIGN.md §1, checked on the source: which package may import which, no Node I/O in the
 * core, no reaching into another package's `src/internal/`, no cycles between packages, one public barrel each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir).filter((p) => existsSync(join(packagesDir, p, 'package.json')));

/** Allowed @millrace dependencies of each package (DESIGN.md §1). Packages not listed may use core only. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  runtime: ['core'],
  testing: ['core', 'runtime'],
  kafka: ['core'],
  avro: ['core'],
  hdfs: ['core', 'avro'],
  rxjs: ['core'],
  devservices: [],
  cli: ['core', 'runtime', 'devservices', 'kafka', 'hdfs', 'avro'],
};

const NODE_IO = ['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'worker_threads', 'dgram', 'dns', 'tls', 'cluster', 'readline', 'v8'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.[cm]?ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

const srcOf = (pkg: string) => sourceFiles(join(packagesDir, pkg, 'src'));

test('every package is covered by the rules and has one public barrel src/index.ts', () => {
  for (const p of packages) {
    assert.ok(p in ALLOWED, `packages/${p} has no entry in the dependency rules of this test`);
    assert.ok(existsSync(join(packagesDir, p, 'src', 'index.ts')), `packages/${p} has no src/index.ts barrel`);
    const pkg = JSON.parse(readFileSync(join(packagesDir, p, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(pkg.exports ?? {}), ['.'], `packages/${p} must export only its barrel`);
  }
});

test('packages import only the @millrace packages DESIGN.md §1 allows', () => {
  const violations: string[] = [];
  for (const p of packages) {
    for (const f of srcOf(p)) {
      for (const spec of imports(f)) {
        const m = /^@millrace\/([^/]+)(\/.*)?$/.exec(spec);
        if (!m) continue;
        if (m[2]) violations.push(`${relative(root, f)} imports a deep path ${spec}; use the package's barrel`);
        if (m[1] !== p && !(ALLOWED[p] ?? ['core']).includes(m[1]!)) violations.push(`${relative(root, f)} imports @millrace/${m[1]}, which packages/${p} may not depend on`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the core does no I/O: it imports no Node I/O module and no third-party package', () => {
  const violations: string[] = [];
  for (const f of srcOf('core')) {
    for (const spec of imports(f)) {
      if (spec.startsWith('.')) continue;
      const bare = spec.replace(/^node:/, '');
      if (NODE_IO.includes(bare)) violations.push(`${relative(root, f)} imports ${spec}`);
      else violations.push(`${relative(root, f)} imports ${spec} (the core has no dependencies)`);
    }
  }
  assert.deepEqual(violations, []);
});

test("nothing imports another package's src/internal/ by relative path", () => {
  const violations: string[] = [];
  for (const p of packages) {
    for (const f of srcOf(p)) {
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const target = join(f, '..', spec);
        const rel = relative(packagesDir, target);
        if (!rel.startsWith(`${p}/`) && !rel.startsWith('..')) violations.push(`${relative(root, f)} reaches into ${rel}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('package.json dependencies match the rules and have no cycles', () => {
  const graph = new Map<string, string[]>();
  for (const p of packages) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, p, 'package.json'), 'utf8'));
    const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@millrace/')).map((d) => d.slice('@millrace/'.length));
    for (const d of deps) assert.ok((ALLOWED[p] ?? ['core']).includes(d), `packages/${p}/package.json depends on @millrace/${d}, which the rules do not allow`);
    graph.set(p, deps);
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (p: string, path: string[]): void => {
    if (done.has(p)) return;
    assert.ok(!visiting.has(p), `dependency cycle: ${[...path, p].join(' → ')}`);
    visiting.add(p);
    for (const d of graph.get(p) ?? []) visit(d, [...path, p]);
    visiting.delete(p);
    done.add(p);
  };
  for (const p of packages) visit(p, []);
});
