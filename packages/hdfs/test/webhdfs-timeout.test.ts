/**
 * A stalled DataNode must fail a WebHDFS write or read with an error naming the path, never hang the job. The
 * stall is a local HTTP server that plays the NameNode's redirect and then a DataNode that accepts the connection
 * but reads nothing and never answers (a stuck DataNode cannot be made on the shared dev HDFS).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HdfsError, WebHdfsFileSystem } from '../src/index.js';

describe('WebHdfsFileSystem against a stalled DataNode', { timeout: 60_000 }, () => {
  let server: Server;
  let fs: WebHdfsFileSystem;
  const sockets = new Set<Socket>();
  const stalled: IncomingMessage[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://localhost');
      if (url.pathname.startsWith('/webhdfs/v1/')) {
        // The NameNode: step one of CREATE and OPEN redirect to the DataNode.
        res.writeHead(307, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/datanode${url.pathname}${url.search}` });
        res.end();
        return;
      }
      // The DataNode: takes the request and does nothing more.
      req.pause();
      stalled.push(req);
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fs = new WebHdfsFileSystem({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, user: 'tester', timeoutMs: 2000 });
  });
  after(async () => {
    fs.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('fails a write the DataNode takes no data for, naming the path', async () => {
    const s = fs.createStream('/data/stuck/part-0-0.avro');
    const chunk = Buffer.alloc(1 << 20, 7);
    let written = 0;
    // The socket buffers fill after a few MiB; the write that waits on them then fails.
    const failure = await (async () => {
      for (; written < 1024; written++) await s.write(chunk);
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(written < 1024, 'a write failed before 1 GiB went into a DataNode that reads nothing');
    assert.ok(failure instanceof HdfsError, String(failure));
    assert.equal(failure.code, 'timeout');
    assert.equal(failure.path, '/data/stuck/part-0-0.avro');
    assert.match(failure.message, /CREATE webhdfs:\/\/127\.0\.0\.1:\d+\/data\/stuck\/part-0-0\.avro: the DataNode at 127\.0\.0\.1:\d+ took no data within 2000 ms \(timeoutMs\)/);
    await assert.rejects(s.write(chunk), (e: HdfsError) => e === failure, 'later writes fail the same way');
    await assert.rejects(s.close(), (e: HdfsError) => e === failure);
  });

  it('fails a close the DataNode never confirms, naming the path', async () => {
    const s = fs.createStream('/data/stuck/part-0-1.avro');
    await s.write(Buffer.from('Obj\x01'));
    await assert.rejects(s.close(), (e: HdfsError) => e instanceof HdfsError && e.code === 'timeout' && e.path === '/data/stuck/part-0-1.avro'
      && /part-0-1\.avro: the DataNode at .* did not confirm the file within 2000 ms \(timeoutMs\)/.test(e.message));
  });

  it('fails a read the DataNode sends nothing for, naming the path, as writes do', async () => {
    await assert.rejects(fs.readFile('/data/stuck/part-0-2.avro'), (e: HdfsError) => e instanceof HdfsError && e.code === 'timeout' && e.path === '/data/stuck/part-0-2.avro'
      && /OPEN webhdfs:\/\/.*\/data\/stuck\/part-0-2\.avro: the DataNode at .* sent no data within 2000 ms \(timeoutMs\)/.test(e.message));
  });
});
