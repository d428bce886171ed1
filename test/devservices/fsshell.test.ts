/**
 * Checks the dev HDFS with Hadoop's own shell (`org.apache.hadoop.fs.FsShell`, the class behind `hdfs dfs`), run
 * with `java -cp` from the same jars: files written through WebHDFS are listed and read by FsShell over the
 * NameNode RPC port, and a file put by FsShell is read back through WebHDFS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FS_SHELL_MAIN_CLASS, prepareHadoopClient, useDevServices, type DevServicesLease, type HadoopClient } from '@millrace/devservices';

const run = promisify(execFile);

describe("Hadoop's FsShell on the dev HDFS", { timeout: 300_000 }, () => {
  let services: DevServicesLease;
  let client: HadoopClient;
  let api: string;
  let local: string;
  const dir = `/millrace-test/fsshell-${randomUUID().slice(0, 8)}`;
  const user = 'millrace-tester';

  const fsShell = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(client.java, ['-cp', client.classpath, FS_SHELL_MAIN_CLASS, ...args], {
      env: client.env,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  };

  const webhdfsWrite = async (path: string, body: string) => {
    const step1 = await fetch(`${api}${path}?op=CREATE&overwrite=true&user.name=${user}`, { method: 'PUT', redirect: 'manual' });
    assert.equal(step1.status, 307);
    // Step two through node:http: the DataNode's unsolicited 100 Continue breaks fetch (see webhdfs.test.ts).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(step1.headers.get('location')!, { method: 'PUT', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 201);
  };

  before(async () => {
    services = await useDevServices({ kafka: false });
    api = `${services.hdfs!.webhdfsUrl}/webhdfs/v1`;
    client = await prepareHadoopClient(services.hdfs!.fsUri, { user });
    local = await mkdtemp(join(tmpdir(), 'millrace-fsshell-'));
  });

  after(async () => {
    if (api) await fetch(`${api}${dir}?op=DELETE&recursive=true&user.name=${user}`, { method: 'DELETE' }).catch(() => undefined);
    if (local) await rm(local, { recursive: true, force: true });
    await services?.close();
  });

  it('lists and cats files written through WebHDFS', async () => {
    await webhdfsWrite(`${dir}/dt=2026-01-01/part-0.jsonl`, '{"id":1}\n{"id":2}\n');
    await webhdfsWrite(`${dir}/dt=2026-01-02/part-0.jsonl`, '{"id":3}\n');

    const listing = (await fsShell('-ls', '-R', dir)).trim().split('\n');
    const files = listing.filter((line) => line.startsWith('-'));
    assert.deepEqual(
      files.map((line) => {
        const cols = line.trim().split(/\s+/);
        return { replication: cols[1], owner: cols[2], size: Number(cols[4]), path: cols[7] };
      }),
      [
        { replication: '1', owner: user, size: 18, path: `${dir}/dt=2026-01-01/part-0.jsonl` },
        { replication: '1', owner: user, size: 9, path: `${dir}/dt=2026-01-02/part-0.jsonl` },
      ],
    );
    assert.equal(await fsShell('-cat', `${dir}/dt=2026-01-01/part-0.jsonl`), '{"id":1}\n{"id":2}\n');
    assert.equal((await fsShell('-count', dir)).trim().split(/\s+/).slice(0, 3).join(' '), '3 2 27');
  });

  it('puts a file that WebHDFS then reads', async () => {
    const source = join(local, 'from-fsshell.txt');
    await writeFile(source, 'written by FsShell\n');
    await fsShell('-mkdir', '-p', `${dir}/put`);
    await fsShell('-put', source, `${dir}/put/from-fsshell.txt`);
    const open = await fetch(`${api}${dir}/put/from-fsshell.txt?op=OPEN&user.name=${user}`);
    assert.equal(open.status, 200);
    assert.equal(await open.text(), 'written by FsShell\n');
  });

  it('`millrace dev hdfs` runs the same shell on the HDFS named by MILLRACE_HDFS_URI and passes its exit code', async () => {
    await webhdfsWrite(`${dir}/cli/a.txt`, 'via the millrace command\n');
    const bin = fileURLToPath(new URL('../../packages/cli/bin/millrace.js', import.meta.url));
    const env = { ...process.env, MILLRACE_HDFS_URI: services.hdfs!.fsUri, MILLRACE_HDFS_USER: user };
    const { stdout } = await run(process.execPath, [bin, 'dev', 'hdfs', '-cat', `${dir}/cli/a.txt`], { env, timeout: 120_000 });
    assert.equal(stdout, 'via the millrace command\n');
    const missing = await run(process.execPath, [bin, 'dev', 'hdfs', '-ls', `${dir}/cli/nope`], { env, timeout: 120_000 }).then(() => 0, (e: { code?: number; stderr?: string }) => {
      assert.match(e.stderr ?? '', /No such file or directory/);
      return e.code;
    });
    assert.equal(missing, 1, 'the shell\'s exit code for a missing path');
  });
});
