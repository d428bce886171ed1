/**
 * Exactly once under SIGKILL: a child process runs a job writing Avro part files to HDFS with checkpoints on HDFS;
 * the test kills it with SIGKILL at seeded random checkpoints (probed on HDFS, never slept for), restarts it from
 * the latest checkpoint, and at the end finds every record exactly once in final files, no hidden part files left,
 * and no partial file under a final name — checked with Hadoop's own FsShell (`-ls`, `-text`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FS_SHELL_MAIN_CLASS, pollUntil, prepareHadoopClient, useDevServices, type DevServicesLease, type HadoopClient } from '@millrace/devservices';
import { WebHdfsFileSystem, walkFiles } from '@millrace/hdfs';
import { readContainer } from '@millrace/avro';
import { seeded } from '../probe.ts';

const run = promisify(execFile);
const JOB = fileURLToPath(new URL('./fixtures/sink-job.ts', import.meta.url));
const COUNT = 4000;

describe('file sink on HDFS: exactly once under SIGKILL', { timeout: 600_000 }, () => {
  let services: DevServicesLease;
  let fs: WebHdfsFileSystem;
  let hadoop: HadoopClient;
  const dir = `/millrace-test/sigkill-${randomUUID().slice(0, 8)}`;
  const fsShell = async (...args: string[]) => (await run(hadoop.java, ['-cp', hadoop.classpath, FS_SHELL_MAIN_CLASS, ...args], { env: hadoop.env, maxBuffer: 64 << 20, timeout: 120_000 })).stdout;

  before(async () => {
    services = await useDevServices({ kafka: false });
    fs = new WebHdfsFileSystem({ url: services.hdfs!.webhdfsUrl, user: 'millrace-tester' });
    hadoop = await prepareHadoopClient(services.hdfs!.fsUri, { user: 'millrace-tester' });
  });
  after(async () => {
    await fs?.delete(dir).catch(() => {});
    fs?.close();
    await services?.close();
  });

  const latestCheckpoint = async (): Promise<number> => {
    const names = await fs.list(`${dir}/chk/sigkill-sink`);
    let max = 0;
    for (const n of names) { const m = /^chk-(\d+)$/.exec(n); if (m && (await fs.exists(`${dir}/chk/sigkill-sink/${n}/_metadata.json`))) max = Math.max(max, Number(m[1])); }
    return max;
  };

  it('leaves each record exactly once in final files after three kills', async () => {
    const seed = Number(process.env.MILLRACE_TEST_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    const logs: string[] = [];
    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', JOB, services.hdfs!.webhdfsUrl, dir, String(COUNT)], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => logs.push(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => logs.push(d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      return { child, exited };
    };
    let target = 0;
    let kills = 0;
    let finished = false;
    for (let round = 0; round < 3 && !finished; round++) {
      const { child, exited } = start();
      target = (await latestCheckpoint()) + 1 + Math.floor(random() * 3);
      // true: the kill point is reached; false: the run ended before it.
      const reached = await pollUntil(async () => ((await latestCheckpoint()) >= target ? true : (child.exitCode !== null ? false : undefined)), {
        what: `checkpoint ${target} (seed ${seed})`, timeoutMs: 120_000, intervalMs: 50, hint: "The job's output ends as below.", describeFailure: async () => logs.join('').slice(-4000),
      });
      if (reached) { child.kill('SIGKILL'); kills++; }
      // A run that ended before its kill point finished the input: it must have ended cleanly.
      const code = await exited;
      if (!reached) { assert.equal(code, 0, `run ${round + 1} failed (seed ${seed}): ${logs.join('')}`); finished = true; }
    }
    assert.ok(kills >= 1, `no run was killed (seed ${seed})`);
    if (!finished) {
      const last = start();
      assert.equal(await last.exited, 0, `the last run failed (seed ${seed}): ${logs.join('')}`);
    }
    assert.match(logs.join(''), /restored 'sigkill-sink'/);

    const files = await walkFiles(fs, `${dir}/out`);
    assert.ok(files.every((f) => /\/dt=2026-11-0[12]\/hour=\d\d\/part-0-\d+\.avro$/.test(f)), `only final part files remain (seed ${seed}):\n${files.filter((f) => !/part-0-\d+\.avro$/.test(f)).join('\n')}`);
    const ids: number[] = [];
    for (const f of files) ids.push(...readContainer<{ id: number }>(await fs.readFile(f), { path: f }).records.map((r) => Number(r.id)));
    ids.sort((a, b) => a - b);
    const dupes = ids.filter((x, i) => i > 0 && ids[i - 1] === x);
    assert.equal(dupes.length, 0, `duplicates (seed ${seed}): ${dupes.slice(0, 10).join(', ')}`);
    assert.equal(ids.length, COUNT, `records lost (seed ${seed})`);

    // Independent check with Hadoop's FsShell: -ls sees only final files, -text decodes every record.
    const listed = (await fsShell('-ls', '-R', `${dir}/out`)).split('\n').filter((l) => l.startsWith('-')).map((l) => l.trim().split(/\s+/).pop()!);
    assert.deepEqual(listed.sort(), files);
    const text = await fsShell('-text', `${dir}/out/*/*/*.avro`);
    const fromHadoop = text.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id).sort((a, b) => a - b);
    assert.deepEqual(fromHadoop, ids);
  });
});
