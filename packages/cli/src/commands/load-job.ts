import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobDefinition } from '@millrace/core';
import { UsageError } from '../report-error.js';

let loaderRegistered = false;

/**
 * Imports a job file (TypeScript or JavaScript) and returns its default export. On Node versions that cannot run
 * TypeScript by themselves, registers the tsx loader first (inside this thread only).
 */
export async function loadJob(file: string): Promise<JobDefinition> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`job file ${path} does not exist`);
  if (/\.[cm]?ts$/.test(path) && !loaderRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    loaderRegistered = true;
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (e) {
    const hint = /require\(\) ES Module|Cannot use import statement|ERR_REQUIRE/.test(String((e as Error).message))
      ? ' (job files are ES modules: give the nearest package.json "type": "module")'
      : /Cannot find package '@millrace\//.test(String((e as Error).message))
        ? ' (the job\'s directory must see the @millrace packages: keep it inside the workspace, or install them in its project)'
        : '';
    throw new UsageError(`cannot load job file ${path}: ${(e as Error).message}${hint}`);
  }
  const job = mod.default as Partial<JobDefinition> | undefined;
  if (!job || typeof job !== 'object' || typeof job.plan !== 'function' || typeof job.name !== 'string') {
    throw new UsageError(`job file ${path} must export a job as its default export: export default defineJob('name', (env) => { … })`);
  }
  return job as JobDefinition;
}

/** Parses `--name value` and `--name=value` flags; bare words are positional. */
export function parseFlags(argv: readonly string[], known: readonly string[], booleans: readonly string[] = []): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!known.includes(name) && !booleans.includes(name)) throw new UsageError(`unknown flag --${name}; known flags: ${[...known, ...booleans].map((k) => `--${k}`).join(', ')}`);
    if (booleans.includes(name)) flags.set(name, 'true');
    else if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`flag --${name} needs a value`);
      flags.set(name, v);
    }
  }
  return { flags, positional };
}

/** Reads a positive integer flag. */
export function intFlag(flags: Map<string, string>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}
