import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FileSystem } from '@millrace/core';

/** The {@link FileSystem} of a local directory: paths are resolved under `root`. */
export class LocalFileSystem implements FileSystem {
  readonly root: string;
  readonly uri: string;
  constructor(root: string) {
    this.root = resolve(root);
    this.uri = `file://${this.root === '/' ? '' : this.root}`;
  }
  private p(path: string): string {
    const full = join(this.root, path);
    if (full !== this.root && !full.startsWith(this.root.endsWith('/') ? this.root : `${this.root}/`)) throw new Error(`path '${path}' escapes ${this.uri}`);
    return full;
  }
  async readFile(path: string): Promise<Uint8Array> {
    try {
      return await readFile(this.p(path));
    } catch (e) {
      throw new Error(`cannot read ${this.uri}${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const full = this.p(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = `${full}.${randomUUID()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, full);
  }
  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(this.p(path))).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.p(path));
      return true;
    } catch {
      return false;
    }
  }
  async rename(from: string, to: string): Promise<void> {
    if (await this.exists(to)) throw new Error(`cannot rename ${this.uri}${from} to ${to}: the target exists`);
    await mkdir(dirname(this.p(to)), { recursive: true });
    await rename(this.p(from), this.p(to));
  }
  async delete(path: string): Promise<void> {
    await rm(this.p(path), { recursive: true, force: true });
  }
  async mkdirs(path: string): Promise<void> {
    await mkdir(this.p(path), { recursive: true });
  }
}
