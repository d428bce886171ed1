/**
 * RemoteException and local errno mapping: a file where a directory should be is reported as such (it came out as
 * a permission problem), and the exception's class decides before words in its message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { HdfsError, LocalFileStore, fileSink, fromRemoteException, jsonLinesFormat } from '../src/index.js';

const URI = 'webhdfs://nn:9870';
/** The RemoteExceptions the dev HDFS (Hadoop 3) answers when /x/afile is a file. */
const remote = (exception: string, message: string, pkg = 'org.apache.hadoop.fs') => ({ exception, javaClassName: `${pkg}.${exception}`, message });

describe('HdfsError mapping', () => {
  it('reports a file where a directory is expected, naming the file, whichever exception HDFS chose', () => {
    const cases = [
      ['LISTSTATUS', '/x/afile/out', 403, remote('AccessControlException', '/x/afile (is not a directory)', 'org.apache.hadoop.security')],
      ['CREATE', '/x/afile/out/part-0-0.avro', 403, remote('ParentNotDirectoryException', '/x/afile (is not a directory)')],
      ['MKDIRS', '/x/afile', 403, remote('FileAlreadyExistsException', 'Path is not a directory: /x/afile')],
    ] as const;
    for (const [op, path, status, r] of cases) {
      const e = fromRemoteException(op, URI, path, status, r);
      assert.equal(e.code, 'not-a-directory', `${op}: ${e.message}`);
      assert.equal(e.path, path);
      assert.match(e.message, new RegExp(`^${op} webhdfs://nn:9870${path} failed: a file exists where a directory is expected: /x/afile is a file, not a directory`));
      assert.doesNotMatch(e.message, /owner or permissions|choose another name/);
      assert.equal(e.remote?.exception, r.exception);
    }
  });

  it('decides by the exception class before words in the message', () => {
    const denied = fromRemoteException('DELETE', URI, '/d', 403, remote('AccessControlException', 'Permission denied. user=u is not the owner of inode=/d', 'org.apache.hadoop.security'));
    assert.equal(denied.code, 'permission');
    // "Please" holds "lease"; this is no lease problem.
    const standby = fromRemoteException('CREATE', URI, '/d', 403, remote('StandbyException', 'Operation category WRITE is not supported in state standby. Please retry on the active NameNode', 'org.apache.hadoop.ipc'));
    assert.equal(standby.code, 'standby', standby.message);
    assert.match(standby.message, /point the WebHDFS URL at the active NameNode/);
    const quota = fromRemoteException('CREATE', URI, '/q/f', 403, remote('NSQuotaExceededException', 'The NameSpace quota (directories and files) of directory /q is exceeded: quota=1 file count=2', 'org.apache.hadoop.hdfs.protocol'));
    assert.equal(quota.code, 'quota', quota.message);
    assert.match(quota.message, /retrying does not help/);
    assert.equal(fromRemoteException('APPEND', URI, '/q/f', 403, remote('DSQuotaExceededException', 'The DiskSpace quota of /q is exceeded', 'org.apache.hadoop.hdfs.protocol')).code, 'quota');
    const lease = fromRemoteException('APPEND', URI, '/d', 403, remote('AlreadyBeingCreatedException', 'Failed to APPEND_FILE /d for DFSClient_1 because this file lease is currently owned by DFSClient_2', 'org.apache.hadoop.hdfs.protocol'));
    assert.equal(lease.code, 'lease');
    const exists = fromRemoteException('CREATE', URI, '/d', 403, remote('FileAlreadyExistsException', '/d for client 127.0.0.1 already exists'));
    assert.equal(exists.code, 'exists');
    const safe = fromRemoteException('CREATE', URI, '/d', 403, remote('RetriableException', 'Cannot create file /d. Name node is in safe mode.', 'org.apache.hadoop.ipc'));
    assert.equal(safe.code, 'safe-mode');
  });

  it('a local sink whose path runs through a file fails saying so, naming the file', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-notdir-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new LocalFileStore(root);
    await fs.writeFile('/x/afile', Buffer.from('a file'));
    await assert.rejects(runJob(defineJob('notdir', (env) => {
      env.fromArray([1, 2, 3], { uid: 'src' }).sinkTo(fileSink({ fs, path: '/x/afile/out', format: jsonLinesFormat(), log: () => {} }), { uid: 'sink' });
    })).done, (e: unknown) => {
      const h = e instanceof HdfsError ? e : (e as { cause?: unknown }).cause;
      return h instanceof HdfsError && h.code === 'not-a-directory' && /a file exists where a directory is expected: \/x\/afile is a file/.test(h.message);
    });
    await assert.rejects(fs.mkdirs('/x/afile'), (e: HdfsError) => e.code === 'not-a-directory' && e.message.includes('/x/afile is a file'));
    await assert.rejects(fs.createStream('/x/afile/y/z').close(), (e: HdfsError) => e.code === 'not-a-directory' && e.message.includes('/x/afile is a file'));
  });
});

describe('a local file store at the file-system root', () => {
  it('reads and writes absolute paths, with plain file:/// URIs in messages', async () => {
    const { mkdtemp, rm: rmDir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/millrace-root-store-`);
    try {
      const fs = new LocalFileStore('/');
      await fs.writeFile(`${dir}/a.txt`, new TextEncoder().encode('x'));
      assert.deepEqual(await fs.list(dir), ['a.txt']);
      assert.equal(fs.uri, 'file://');
      await assert.rejects(fs.readFile(`${dir}/missing`), (e: HdfsError) => e.code === 'not-found' && e.message.includes(`file://${dir}/missing`) && !e.message.includes('file:////'));
    } finally {
      await rmDir(dir, { recursive: true, force: true });
    }
  });
});
