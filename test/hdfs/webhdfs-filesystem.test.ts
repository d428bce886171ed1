/**
 * WebHdfsFileSystem against the real HDFS: streamed two-step CREATE, ranged reads, RENAME's result checked,
 * RemoteExceptions mapped to errors naming the path, and use as checkpoint storage of a job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { prepareHadoopClient, useDevServices, type DevServicesLease } from '@millrace/devservices';
import { HdfsError, WebHdfsFileSystem, fileSink, jsonLinesFormat } from '@millrace/hdfs';
import { defineJob, sinks, sources } from '@millrace/core';
import { runJob } from '@millrace/runtime';

describe('WebHdfsFileSystem on the dev HDFS', { timeout: 300_000 }, () => {
  let services: DevServicesLease;
  let fs: WebHdfsFileSystem;
  const dir = `/millrace-test/webhdfs-fs-${randomUUID().slice(0, 8)}`;

  before(async () => {
    services = await useDevServices({ kafka: false });
    fs = new WebHdfsFileSystem({ url: services.hdfs!.webhdfsUrl, user: 'millrace-tester' });
  });
  after(async () => {
    await fs?.delete(dir).catch(() => {});
    fs?.close();
    await services?.close();
  });

  it('streams a file in chunks, reads it whole and by range, lists it', async () => {
    const s = fs.createStream(`${dir}/a/b.bin`);
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i));
    for (const c of chunks) await s.write(c);
    await s.close();
    const all = Buffer.concat(chunks);
    assert.ok(Buffer.from(await fs.readFile(`${dir}/a/b.bin`)).equals(all));
    assert.ok(Buffer.from(await fs.readRange(`${dir}/a/b.bin`, 100_000, 5000)).equals(all.subarray(100_000, 105_000)));
    const st = await fs.listStatus(`${dir}/a`);
    assert.deepEqual(st.map((x) => [x.path, x.type, x.length]), [[`${dir}/a/b.bin`, 'file', all.length]]);
    assert.deepEqual(await fs.list(`${dir}/nope`), []);
  });

  it('writes atomically, renames with checks, maps errors to what and where', async () => {
    await fs.writeFile(`${dir}/w/x.json`, Buffer.from('{"v":1}'));
    await fs.writeFile(`${dir}/w/x.json`, Buffer.from('{"v":2}'));
    assert.equal(Buffer.from(await fs.readFile(`${dir}/w/x.json`)).toString(), '{"v":2}');
    assert.deepEqual(await fs.list(`${dir}/w`), ['x.json']);
    await fs.writeFile(`${dir}/w/y.json`, Buffer.from('y'));
    await assert.rejects(fs.rename(`${dir}/w/y.json`, `${dir}/w/x.json`), (e: HdfsError) => e.code === 'exists' && e.message.includes(`${dir}/w/x.json`));
    await assert.rejects(fs.rename(`${dir}/w/missing`, `${dir}/w/z`), (e: HdfsError) => e.code === 'not-found' && e.message.includes('missing'));
    await assert.rejects(fs.readFile(`${dir}/w/missing`), (e: HdfsError) => e.code === 'not-found' && e.remote?.exception === 'FileNotFoundException' && e.message.includes(`${dir}/w/missing`));
    const dup = fs.createStream(`${dir}/w/y.json`);
    await assert.rejects(dup.close(), (e: HdfsError) => e.code === 'exists' && /FileAlreadyExists/.test(e.message));
    await fs.delete(`${dir}/w/does-not-exist`);
    await assert.rejects(new WebHdfsFileSystem({ url: 'http://127.0.0.1:1' }).exists('/x'), (e: HdfsError) => e.code === 'unreachable' && /WebHDFS URL/.test(e.message));
  });

  it('reports a file where a directory is expected, naming the file (not as a permission problem)', async () => {
    await fs.writeFile(`${dir}/nd/afile`, Buffer.from('a file'));
    const notDir = (e: HdfsError) => e.code === 'not-a-directory' && e.message.includes(`a file exists where a directory is expected: ${dir}/nd/afile is a file`) && !/permission/.test(e.message);
    await assert.rejects(fs.status(`${dir}/nd/afile/out`), notDir);
    await assert.rejects(fs.listStatus(`${dir}/nd/afile/out`), notDir);
    await assert.rejects(fs.mkdirs(`${dir}/nd/afile/out`), notDir);
    await assert.rejects(fs.mkdirs(`${dir}/nd/afile`), notDir);
    const s = fs.createStream(`${dir}/nd/afile/out/part-0-0.avro`);
    await assert.rejects(s.close(), notDir);
    // What a user met: a job whose sink path runs through the file.
    await assert.rejects(runJob(defineJob('notdir', (env) => {
      env.fromArray([1, 2, 3], { uid: 'src' }).sinkTo(fileSink({ fs, path: `${dir}/nd/afile/out`, format: jsonLinesFormat(), log: () => {} }), { uid: 'sink' });
    })).done, (e: unknown) => {
      for (let x = e; x; x = (x as { cause?: unknown }).cause) if (x instanceof HdfsError) return notDir(x);
      return false;
    });
  });

  it('a used-up directory quota is reported as one (set with Hadoop\'s own DFSAdmin), not as a transient I/O error', async () => {
    const q = `${dir}/quota`;
    await fs.mkdirs(q);
    // Superuser: the user the dev HDFS runs as.
    const hadoop = await prepareHadoopClient(services.hdfs!.fsUri, { user: services.hdfs!.user });
    await promisify(execFile)(hadoop.java, ['-cp', hadoop.classpath, 'org.apache.hadoop.hdfs.tools.DFSAdmin', '-setQuota', '2', q], { env: hadoop.env, timeout: 120_000 });
    await fs.writeFile(`${q}/a`, Buffer.from('a'));
    await assert.rejects(fs.writeFile(`${q}/b`, Buffer.from('b')), (e: HdfsError) =>
      e.code === 'quota' && e.remote?.exception === 'NSQuotaExceededException' && e.message.includes(q) && /retrying does not help/.test(e.message));
  });

  it('serves as checkpoint storage: a job checkpoints to HDFS and restores from it', async () => {
    const job = defineJob('hdfs-chk', (env) => {
      env.fromSource(sources.generator({ generate: (i) => i, ratePerSecond: 2000 }), { uid: 'src' })
        .keyBy((x) => x % 3).reduce((a, b) => a + b, { uid: 'sum' }).sinkTo(sinks.collect(), { uid: 'out' });
    });
    const h = runJob(job, { checkpoints: { fs, dir: `${dir}/chk` } });
    const info = await h.checkpoint();
    await h.cancel();
    const files = await fs.list(`${dir}/chk/hdfs-chk/chk-${info.checkpointId}`);
    assert.ok(files.includes('_metadata.json'), `checkpoint files on HDFS: ${files.join(', ')}`);
    const logs: string[] = [];
    const again = runJob(job, { checkpoints: { fs, dir: `${dir}/chk` }, restore: 'latest', log: (m) => logs.push(m) });
    await again.checkpoint();
    await again.cancel();
    assert.match(logs.join('\n'), new RegExp(`restored 'hdfs-chk' from webhdfs://127\\.0\\.0\\.1:\\d+${dir}/chk/hdfs-chk/chk-${info.checkpointId}`));
  });
});
