import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import { HdfsError, HINTS, fromRemoteException, isNotFound } from './errors.js';
import type { FileStatus, FileStore, FileWriteStream } from './file-store.js';

/** Options of {@link WebHdfsFileSystem}. */
export interface WebHdfsOptions {
  /**
   * The NameNode's HTTP address (http or https), e.g. `http://127.0.0.1:9870` (MILLRACE_WEBHDFS_URL); not its RPC
   * address (`hdfs://…:9000`), which the constructor rejects naming the URL.
   */
  readonly url: string;
  /** `user.name` for simple authentication (MILLRACE_HDFS_USER); default the OS user. */
  readonly user?: string;
  /** Replication of files it creates (default: the cluster's). */
  readonly replication?: number;
  /**
   * Milliseconds a request may wait for an answer before it fails with an {@link HdfsError} `timeout` naming the
   * path (default 60 s). Writes too: a part file's stream fails when the DataNode takes no data for this long while
   * the writer waits on it, or does not answer this long after the file was closed. An open stream that is not
   * being written to does not time out.
   */
  readonly timeoutMs?: number;
}

interface Reply { status: number; headers: IncomingMessage['headers']; body: Buffer }

interface RawStatus { pathSuffix: string; type: 'FILE' | 'DIRECTORY' | 'SYMLINK'; length: number; modificationTime: number }

/**
 * A {@link FileStore} over WebHDFS, written on `node:http` (not the npm `webhdfs` package, not `fetch`; see
 * docs/decisions.md "Avro and HDFS"): both steps of CREATE are done by hand (the NameNode answers 307 with a
 * DataNode address; the data goes there, streamed with chunked encoding), since the DataNode sends an unsolicited
 * `100 Continue` that `fetch` rejects. RENAME's boolean result is checked. `RemoteException`s become
 * {@link HdfsError}s naming the operation, the path and what to do (permission, not found, safe mode, lease).
 * Usable as checkpoint storage: `runJob(job, { checkpoints: { fs: new WebHdfsFileSystem({ url }), dir: '/chk' } })`.
 */
export class WebHdfsFileSystem implements FileStore {
  readonly uri: string;
  private readonly base: URL;
  private readonly user: string;
  private readonly agents = { http: new Agent({ keepAlive: true, maxSockets: 32 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 32 }) };
  /** @internal */
  readonly timeoutMs: number;
  /** @throws HdfsError `invalid` naming the URL when it is not an http(s) URL (e.g. the NameNode's RPC address). */
  constructor(private readonly opts: WebHdfsOptions) {
    this.base = webHdfsUrl(opts.url);
    this.user = opts.user ?? process.env.MILLRACE_HDFS_USER ?? process.env.USER ?? 'root';
    this.uri = `webhdfs://${this.base.host}`;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  private url(path: string, op: string, params: Record<string, string | number | boolean> = {}): URL {
    if (!path.startsWith('/')) throw new HdfsError('not-found', `WebHDFS paths are absolute: '${path}' does not start with '/'`, path);
    const u = new URL(`/webhdfs/v1${path.split('/').map(encodeURIComponent).join('/')}`, this.base);
    u.searchParams.set('op', op);
    u.searchParams.set('user.name', this.user);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    return u;
  }

  /** One HTTP exchange; collects the body. */
  private send(method: string, target: URL, body?: Uint8Array): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(target, { method, agent: target.protocol === 'https:' ? this.agents.https : this.agents.http, timeout: this.timeoutMs, headers: body ? { 'content-type': 'application/octet-stream', 'content-length': body.byteLength } : { 'content-length': 0 } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new RequestTimeout(this.timeoutMs)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async call(op: string, method: string, path: string, params: Record<string, string | number | boolean> = {}, ok = [200]): Promise<Reply> {
    let reply: Reply;
    try {
      reply = await this.send(method, this.url(path, op, params));
    } catch (e) {
      if (e instanceof RequestTimeout) throw new HdfsError('timeout', `${op} ${this.uri}${path}: the NameNode sent no answer within ${e.ms} ms (timeoutMs) — ${HINTS.timeout}`, path, undefined, { cause: e });
      throw new HdfsError('unreachable', `${op} ${this.uri}${path} failed: ${(e as Error).message} — check the WebHDFS URL (${this.opts.url}) and that the NameNode runs`, path, undefined, { cause: e });
    }
    if (!ok.includes(reply.status)) throw this.error(op, path, reply);
    return reply;
  }

  private error(op: string, path: string, reply: Reply): HdfsError {
    const text = reply.body.toString('utf8');
    let remote: { exception?: string; javaClassName?: string; message?: string } | undefined;
    try { remote = (JSON.parse(text) as { RemoteException?: typeof remote }).RemoteException; } catch { /* not JSON */ }
    return fromRemoteException(op, this.uri, path, reply.status, remote, text);
  }

  private static toStatus(dir: string, s: RawStatus): FileStatus {
    const path = s.pathSuffix ? `${dir === '/' ? '' : dir}/${s.pathSuffix}` : dir;
    return { path, type: s.type === 'DIRECTORY' ? 'directory' : 'file', length: s.length, modificationTime: s.modificationTime };
  }

  async status(path: string): Promise<FileStatus | undefined> {
    try {
      const r = await this.call('GETFILESTATUS', 'GET', path);
      return WebHdfsFileSystem.toStatus(path, (JSON.parse(r.body.toString()) as { FileStatus: RawStatus }).FileStatus);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async listStatus(path: string): Promise<FileStatus[]> {
    try {
      const r = await this.call('LISTSTATUS', 'GET', path);
      const list = (JSON.parse(r.body.toString()) as { FileStatuses: { FileStatus: RawStatus[] } }).FileStatuses.FileStatus;
      return list.map((s) => WebHdfsFileSystem.toStatus(path, s)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  async list(path: string): Promise<string[]> {
    return (await this.listStatus(path)).map((s) => s.path.slice(s.path.lastIndexOf('/') + 1));
  }

  async exists(path: string): Promise<boolean> {
    return (await this.status(path)) !== undefined;
  }

  async mkdirs(path: string): Promise<void> {
    const r = await this.call('MKDIRS', 'PUT', path);
    if (!(JSON.parse(r.body.toString()) as { boolean: boolean }).boolean) {
      throw new HdfsError('io', `MKDIRS ${this.uri}${path} returned false — a file may be in the way`, path);
    }
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', 'DELETE', path, { recursive: true });
  }

  async rename(from: string, to: string): Promise<void> {
    if (await this.exists(to)) throw new HdfsError('exists', `cannot rename ${this.uri}${from} to ${to}: the target exists — choose another name, or delete it first`, to);
    await this.mkdirs(to.slice(0, to.lastIndexOf('/')) || '/');
    const r = await this.call('RENAME', 'PUT', from, { destination: to });
    if (!(JSON.parse(r.body.toString()) as { boolean: boolean }).boolean) {
      // RENAME answers false, not an error, for a missing source or a target in the way.
      const src = await this.exists(from);
      throw new HdfsError(src ? 'exists' : 'not-found', `RENAME ${this.uri}${from} to ${to} returned false: ${src ? 'the target appeared meanwhile' : 'the source does not exist'}`, src ? to : from);
    }
  }

  /** Reads through OPEN: the NameNode redirects to a DataNode, followed by hand. */
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    return this.open(path, { offset, length });
  }

  async readFile(path: string): Promise<Uint8Array> {
    return this.open(path, {});
  }

  private async open(path: string, params: Record<string, number>): Promise<Uint8Array> {
    const first = await this.call('OPEN', 'GET', path, params, [200, 307]);
    if (first.status === 200) return first.body;
    const location = first.headers.location;
    if (!location) throw new HdfsError('io', `OPEN ${this.uri}${path}: the NameNode redirected without a Location`, path);
    let reply: Reply;
    try { reply = await this.send('GET', new URL(location)); } catch (e) {
      if (e instanceof RequestTimeout) throw new HdfsError('timeout', `OPEN ${this.uri}${path}: the DataNode at ${new URL(location).host} sent no data within ${e.ms} ms (timeoutMs) — ${HINTS.timeout}`, path, undefined, { cause: e });
      throw new HdfsError('unreachable', `OPEN ${this.uri}${path}: the DataNode at ${new URL(location).host} is unreachable (${(e as Error).message}) — this machine must reach the DataNodes, not only the NameNode`, path, undefined, { cause: e });
    }
    if (reply.status !== 200) throw this.error('OPEN', path, reply);
    return reply.body;
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    const tmp = `${dir}/.${path.slice(dir.length + 1)}.${randomUUID().slice(0, 8)}.tmp`;
    const s = this.createStream(tmp, { overwrite: true });
    await s.write(data);
    await s.close();
    if (await this.exists(path)) await this.delete(path);
    await this.rename(tmp, path);
  }

  /** Appends bytes to an existing file (two-step APPEND, data through node:http). */
  async append(path: string, data: Uint8Array): Promise<void> {
    const first = await this.call('APPEND', 'POST', path, {}, [307]);
    const reply = await this.send('POST', new URL(first.headers.location!), data);
    if (reply.status !== 200) throw this.error('APPEND', path, reply);
  }

  createStream(path: string, opts: { overwrite?: boolean } = {}): FileWriteStream {
    return new WebHdfsWriteStream(this, path, opts.overwrite ?? false);
  }

  /** Step one of CREATE: the DataNode address to send the data to. @internal */
  async createLocation(path: string, overwrite: boolean): Promise<URL> {
    const params: Record<string, string | number | boolean> = { overwrite };
    if (this.opts.replication) params.replication = this.opts.replication;
    const r = await this.call('CREATE', 'PUT', path, params, [307]);
    const location = r.headers.location;
    if (!location) throw new HdfsError('io', `CREATE ${this.uri}${path}: the NameNode redirected without a Location`, path);
    return new URL(location);
  }

  /** @internal */
  errorOf(op: string, path: string, status: number, body: Buffer): HdfsError {
    return this.error(op, path, { status, headers: {}, body });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** node:http's or node:https' `request`, by the URL's scheme (a NameNode on https redirects to DataNodes on https). */
function request(target: URL, opts: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
  return target.protocol === 'https:' ? httpsRequest(target, opts, onResponse) : httpRequest(target, opts, onResponse);
}

/**
 * The WebHDFS base URL, checked: http or https only. WebHDFS is served on the NameNode's HTTP port (9870 by default,
 * 50070 before Hadoop 3), not on its RPC port (`hdfs://…:8020` or `:9000`, `fs.defaultFS`).
 */
function webHdfsUrl(url: string): URL {
  const needs = "WebHDFS needs the NameNode's HTTP address, e.g. http://127.0.0.1:9870 (dfs.namenode.http-address), not its RPC address (hdfs://…, fs.defaultFS)";
  let u: URL | undefined;
  try { u = new URL(url); } catch { /* reported below */ }
  if (u === undefined || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new HdfsError('invalid', `WebHdfsFileSystem url '${url}' is not a URL with a scheme: ${needs}`, '');
  }
  if (u.protocol === 'hdfs:' || u.protocol === 'webhdfs:' || u.protocol === 'swebhdfs:') {
    const http = u.protocol === 'swebhdfs:' ? 'https' : 'http';
    throw new HdfsError('invalid', `WebHdfsFileSystem url '${url}' has the scheme ${u.protocol.slice(0, -1)}: ${needs}${u.protocol === 'hdfs:' ? '' : `; write ${http}://${u.host}`}`, '');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new HdfsError('invalid', `WebHdfsFileSystem url '${url}' has the scheme ${u.protocol.slice(0, -1)}, not http or https: ${needs}`, '');
  }
  return u;
}

/** A request destroyed because it waited longer than `timeoutMs`. */
class RequestTimeout extends Error {
  constructor(readonly ms: number) { super(`no answer within ${ms} ms`); }
}

/**
 * Step two of CREATE as one long chunked PUT to the DataNode: the file's bytes stream while it is written. Waits on
 * the DataNode (for it to take data, or to answer after the end) are bounded by the file system's `timeoutMs`; an
 * idle stream is not, since a part file may stay open with nothing to write.
 */
class WebHdfsWriteStream implements FileWriteStream {
  bytes = 0;
  private req: ClientRequest | undefined;
  private readonly ready: Promise<ClientRequest>;
  private readonly result: Promise<void>;
  private failure: Error | undefined;
  private at: URL | undefined;

  constructor(private readonly fs: WebHdfsFileSystem, private readonly path: string, overwrite: boolean) {
    let settle!: (e?: Error) => void;
    this.result = new Promise<void>((resolve, reject) => { settle = (e) => (e ? reject(e) : resolve()); });
    this.result.catch(() => {});
    this.ready = fs.createLocation(path, overwrite).then((at) => {
      this.at = at;
      const req = request(at, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 201 ? settle() : settle((this.failure = fs.errorOf('CREATE', path, res.statusCode ?? 0, Buffer.concat(chunks))))));
      });
      // The DataNode sends `100 Continue` unasked; node:http reports it as 'information' and goes on.
      req.on('error', (e) => settle((this.failure ??= new HdfsError('unreachable', `CREATE ${fs.uri}${path}: sending the data to the DataNode at ${at.host} failed: ${e.message}`, path, undefined, { cause: e }))));
      this.req = req;
      return req;
    });
    this.ready.catch((e: Error) => settle((this.failure = e)));
  }

  /** Fails the stream when `wait` has not settled within `timeoutMs`: the DataNode is stalled. */
  private bounded<R>(wait: Promise<R>, req: ClientRequest, what: string): Promise<R> {
    const ms = this.fs.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new HdfsError('timeout', `CREATE ${this.fs.uri}${this.path}: the DataNode at ${this.at?.host ?? '?'} ${what} within ${ms} ms (timeoutMs) — ${HINTS.timeout}`, this.path);
        this.failure ??= e;
        req.destroy(e);
        reject(this.failure);
      }, ms);
    });
    return Promise.race([wait, expired]).finally(() => clearTimeout(timer));
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    const req = await this.ready;
    if (this.failure) throw this.failure;
    this.bytes += chunk.byteLength;
    if (!req.write(chunk)) {
      const drained = new Promise<void>((resolve, reject) => {
        const onDrain = (): void => { req.off('error', onErr); resolve(); };
        const onErr = (e: Error): void => { req.off('drain', onDrain); reject(this.failure ?? e); };
        req.once('drain', onDrain);
        req.once('error', onErr);
      });
      await this.bounded(drained, req, 'took no data');
    }
  }

  async close(): Promise<void> {
    const req = await this.ready;
    req.end();
    await this.bounded(this.result, req, 'did not confirm the file');
  }

  abort(): void {
    this.ready.then((r) => r.destroy(), () => {});
  }
}
