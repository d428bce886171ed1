/**
 * WebHdfsFileSystem checks its URL when it is constructed: a URL without a scheme or with the NameNode's RPC
 * scheme fails at once, naming the URL and the HTTP address WebHDFS needs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HdfsError, WebHdfsFileSystem } from '../src/index.js';

const rejects = (url: string, why: RegExp) => assert.throws(() => new WebHdfsFileSystem({ url }), (e: unknown) =>
  e instanceof HdfsError && e.code === 'invalid' && e.message.includes(`'${url}'`) && /NameNode's HTTP address, e\.g\. http:\/\/127\.0\.0\.1:9870/.test(e.message) && why.test(e.message), url);

describe('WebHdfsFileSystem url', () => {
  it('rejects a URL without a scheme, and RPC or other schemes, naming the URL', () => {
    rejects('127.0.0.1:9870', /is not a URL with a scheme/);
    rejects('localhost:9870', /is not a URL with a scheme/);
    rejects('', /is not a URL with a scheme/);
    rejects('hdfs://127.0.0.1:9000', /scheme hdfs: .*not its RPC address/);
    rejects('webhdfs://127.0.0.1:9870', /write http:\/\/127\.0\.0\.1:9870/);
    rejects('swebhdfs://nn:9871', /write https:\/\/nn:9871/);
    rejects('ftp://nn:21', /scheme ftp, not http or https/);
  });

  it('accepts http and https, and speaks https to an https URL', async () => {
    new WebHdfsFileSystem({ url: 'http://127.0.0.1:9870' }).close();
    const tls = new WebHdfsFileSystem({ url: 'https://127.0.0.1:1' });
    // Nothing listens on port 1: refused, not "Protocol "https:" not supported".
    await assert.rejects(tls.exists('/x'), (e: HdfsError) => e.code === 'unreachable' && /ECONNREFUSED/.test(e.message) && !/not supported/.test(e.message));
    tls.close();
  });
});
