import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../src/commands/load-job.ts';

const bin = fileURLToPath(new URL('../bin/millrace.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const millrace = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('millrace run runs a TypeScript job file to the end and prints its results and metrics', () => {
  const r = millrace('run', fixture('numbers.ts'));
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as string).sort();
  assert.equal(lines.length, 30, 'ten 10 s windows for each of three keys');
  assert.ok(lines.includes('0@0=34') && lines.includes('1@0=33') && lines.includes('2@90000=33'), r.stdout);
  assert.match(r.stderr, /numbers: finished, 1000 records read/);
  assert.match(r.stderr, /counts → out\s+0\s+1000\s+30/);
});

test('millrace run --restore latest starts fresh without checkpoints; --from-savepoint refuses a path that is not one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-'));
  try {
    const fresh = millrace('run', fixture('numbers.ts'), '--checkpoint-dir', dir, '--restore', 'latest');
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.match(fresh.stderr, /numbers: finished, 1000 records read/);
    const bad = millrace('run', fixture('numbers.ts'), '--checkpoint-dir', dir, '--from-savepoint', '/numbers/chk-7');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /\/numbers\/chk-7 is not a completed checkpoint \(no readable _metadata.json\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('millrace explain prints stages, fused chains and edge partitioning', () => {
  const r = millrace('explain', fixture('numbers.ts'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Stage 0 \(parallelism 1\)\n {4}Chain 0: numbers\n/);
  assert.match(r.stdout, /Chain 1: counts → out\n {6}← hash from chain 0 \(by key group\)/);
  const m = millrace('explain', fixture('numbers.ts'), '--format', 'mermaid');
  assert.match(m.stdout, /^flowchart LR/);
});

test('a file without a default job export is refused with a message saying what to export', () => {
  const r = millrace('run', fixture('not-a-job.ts'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /must export a job as its default export: export default defineJob/);
});

test('unknown flags and missing values are errors that name the flag', () => {
  assert.throws(() => parseFlags(['--paralelism', '2'], ['parallelism']), /unknown flag --paralelism; known flags: --parallelism/);
  assert.throws(() => parseFlags(['--parallelism'], ['parallelism']), /flag --parallelism needs a value/);
  assert.deepEqual([...parseFlags(['job.ts', '--parallelism=2'], ['parallelism']).flags], [['parallelism', '2']]);
});

test('millrace dev hdfs without a running dev HDFS says how to start one; with no arguments it shows its usage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-dev-'));
  try {
    const env = { ...process.env, MILLRACE_DEV_DIR: dir, MILLRACE_HDFS_URI: '' };
    const none = spawnSync(process.execPath, [bin, 'dev', 'hdfs', '-ls', '/'], { encoding: 'utf8', env });
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, new RegExp(`millrace dev hdfs: no dev HDFS is running in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: start it with \`millrace dev up\`, or set MILLRACE_HDFS_URI`));
    const usage = spawnSync(process.execPath, [bin, 'dev', 'hdfs'], { encoding: 'utf8', env });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^Usage: millrace dev hdfs <FsShell arguments>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output piped into a reader that stopped (`millrace … | head`) ends the command quietly, not with an EPIPE trace', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the command writes
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});

test('millrace run takes the checkpoint timeout and tolerable failures, and refuses bad values naming the flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-'));
  try {
    const ok = millrace('run', fixture('numbers.ts'), '--checkpoint-dir', dir, '--checkpoint-interval', '50ms', '--checkpoint-timeout', '2m', '--tolerable-checkpoint-failures', '0');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /numbers: finished, 1000 records read/);
    const negative = millrace('run', fixture('numbers.ts'), '--tolerable-checkpoint-failures', '-1');
    assert.notEqual(negative.status, 0);
    assert.match(negative.stderr, /--tolerable-checkpoint-failures must be 0 or a positive integer, got '-1'/);
    const timeout = millrace('run', fixture('numbers.ts'), '--checkpoint-timeout', '-5s');
    assert.notEqual(timeout.status, 0);
    assert.match(timeout.stderr, /checkpointTimeout must not be negative, got '-5s'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a job whose only source is waiting on its rate limit runs to the end instead of the process exiting early', () => {
  const r = millrace('run', fixture('rate-limited.ts'), '--workers', '0');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 40, r.stdout);
  assert.match(r.stderr, /rate-limited: finished, 40 records read/);
});

test('a command that ended exits even when something it loaded keeps the process open, naming what was open', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, [bin, 'run', fixture('leaky.ts')], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.signal, null, `the process had to be killed:\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /leaky: finished, 3 records read/);
  assert.match(r.stderr, /millrace: the command ended but .*Timeout.* kept the process running for 5 s; exiting/);
});
