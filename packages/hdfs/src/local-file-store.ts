import { createWriteStream, statSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { HdfsError, HINTS } from './errors.js';
import type { FileStatus, FileStore, FileWriteStream } from './file-store.js';

/**
 * A {@link FileStore} on a local directory: paths are resolved under `root`. The same semantics as
 * {@link WebHdfsFileSystem}, so jobs and tests can switch between them.
 */
export class LocalFileStore implements FileStore {
  readonly root: string;
  readonly uri: string;
  constructor(root: string) {
    this.root = resolve(root);
    // `file://` + an absolute path; messages append paths to it, so a root of `/` adds nothing.
    this.uri = `file://${this.root === '/' ? '' : this.root}`;
  }
  private p(path: string): string {
    const full = join(this.root, path);
    if (full !== this.root && !full.startsWith(this.root.endsWith('/') ? this.root : `${this.root}/`)) throw new HdfsError('permission', `path '${path}' escapes ${this.uri}`, path);
    return full;
  }
  private wrap(op: string, path: string, e: unknown): HdfsError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      const file = this.fileInTheWay(path, op === 'mkdirs');
      if (file !== undefined) return new HdfsError('not-a-directory', `${op} ${this.uri}${path} failed: a file exists where a directory is expected: ${file} is a file, not a directory — ${HINTS['not-a-directory']}`, path, undefined, { cause: e });
    }
    const kind = code === 'ENOENT' ? 'not-found' : code === 'EACCES' || code === 'EPERM' ? 'permission' : code === 'EEXIST' ? 'exists' : 'io';
    return new HdfsError(kind, `${op} ${this.uri}${path} failed: ${(e as Error).message}`, path, undefined, { cause: e });
  }
  /** The first ancestor of `path` (or `path` itself, with `self`) that is a file: what ENOTDIR is about. */
  private fileInTheWay(path: string, self = false): string | undefined {
    const segs = path.split('/').filter((x) => x !== '');
    for (let i = 1; i < segs.length + (self ? 1 : 0); i++) {
      const at = `/${segs.slice(0, i).join('/')}`;
      try { if (!statSync(this.p(at)).isDirectory()) return at; } catch { return undefined; }
    }
    return undefined;
  }
  async status(path: string): Promise<FileStatus | undefined> {
    try {
      const s = await stat(this.p(path));
      return { path, type: s.isDirectory() ? 'directory' : 'file', length: s.isDirectory() ? 0 : s.size, modificationTime: s.mtimeMs };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap('stat', path, e);
    }
  }
  async listStatus(path: string): Promise<FileStatus[]> {
    let names: string[];
    try { names = (await readdir(this.p(path))).sort(); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.wrap('list', path, e);
    }
    const out: FileStatus[] = [];
    for (const n of names) {
      const s = await this.status(`${path === '/' ? '' : path}/${n}`);
      if (s) out.push(s);
    }
    return out;
  }
  async list(path: string): Promise<string[]> {
    try { return (await readdir(this.p(path))).sort(); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.wrap('list', path, e);
    }
  }
  async exists(path: string): Promise<boolean> { return (await this.status(path)) !== undefined; }
  async readFile(path: string): Promise<Uint8Array> {
    try { return await readFile(this.p(path)); } catch (e) { throw this.wrap('read', path, e); }
  }
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    let fh;
    try { fh = await open(this.p(path), 'r'); } catch (e) { throw this.wrap('read', path, e); }
    try {
      const buf = Buffer.allocUnsafe(Math.max(0, length));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const full = this.p(path);
    try { await mkdir(dirname(full), { recursive: true }); } catch (e) { throw this.wrap('mkdirs', path.slice(0, path.lastIndexOf('/')) || '/', e); }
    const tmp = `${full}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, full);
  }
  async rename(from: string, to: string): Promise<void> {
    if (await this.exists(to)) throw new HdfsError('exists', `cannot rename ${this.uri}${from} to ${to}: the target exists — choose another name, or delete it first`, to);
    await mkdir(dirname(this.p(to)), { recursive: true });
    try { await rename(this.p(from), this.p(to)); } catch (e) { throw this.wrap('rename', from, e); }
  }
  async delete(path: string): Promise<void> { await rm(this.p(path), { recursive: true, force: true }); }
  async mkdirs(path: string): Promise<void> {
    try { await mkdir(this.p(path), { recursive: true }); } catch (e) { throw this.wrap('mkdirs', path, e); }
  }
  createStream(path: string, opts: { overwrite?: boolean } = {}): FileWriteStream {
    const full = this.p(path);
    const ready = mkdir(dirname(full), { recursive: true }).then(() => createWriteStream(full, { flags: opts.overwrite ? 'w' : 'wx' }));
    ready.catch(() => {});
    let bytes = 0;
    const wrap = (e: unknown): HdfsError => this.wrap('create', path, e);
    return {
      get bytes() { return bytes; },
      async write(chunk) {
        const ws = await ready.catch((e) => { throw wrap(e); });
        bytes += chunk.byteLength;
        if (!ws.write(chunk)) await new Promise<void>((r, j) => { ws.once('drain', r); ws.once('error', j); });
      },
      async close() {
        const ws = await ready.catch((e) => { throw wrap(e); });
        await new Promise<void>((r, j) => { ws.once('error', (e) => j(wrap(e))); ws.end(r); });
      },
      abort() { ready.then((ws) => ws.destroy(), () => {}); },
    };
  }
}
