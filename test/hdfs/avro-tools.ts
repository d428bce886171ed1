/**
 * Apache avro-tools for the HDFS integration tests: an Avro implementation we did not write, to read our part files.
 * The jar (org.apache.avro:avro-tools, pinned in ./avro-tools/pom.xml) is resolved once with
 * `mvn -B -q dependency:copy` into `<millrace cache>/jars/avro-tools-<pom hash>/` (like @millrace/devservices does
 * for Kafka and Hadoop: a temporary directory renamed into place when complete). Measured here: 72 MB, resolved in
 * 12 s on a first run; `java -jar … tojson` on a small file takes about 1 s.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultCacheDir, findJava } from '@millrace/devservices';

const run = promisify(execFile);
const POM = fileURLToPath(new URL('./avro-tools/pom.xml', import.meta.url));

export interface AvroTools {
  readonly jar: string;
  /** Runs `java -jar avro-tools.jar <args>` and returns its stdout. */
  run(...args: string[]): Promise<string>;
}

export async function prepareAvroTools(cacheDir = defaultCacheDir()): Promise<AvroTools> {
  const pom = await readFile(POM, 'utf8');
  const hash = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const dir = join(cacheDir, 'jars', `avro-tools-${hash}`);
  const jar = join(dir, 'avro-tools.jar');
  if (!existsSync(join(dir, '.complete'))) {
    await mkdir(join(cacheDir, 'jars'), { recursive: true });
    const work = await mkdtemp(join(cacheDir, 'jars', '.resolving-avro-tools-'));
    try {
      await writeFile(join(work, 'pom.xml'), pom);
      await run('mvn', ['-B', '-q', '-f', join(work, 'pom.xml'), 'dependency:copy', `-DoutputDirectory=${join(work, 'lib')}`], { cwd: work, maxBuffer: 16 << 20, timeout: 600_000 })
        .catch((e: Error & { stdout?: string; stderr?: string }) => { throw new Error(`mvn could not resolve avro-tools (${POM}): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`); });
      await writeFile(join(work, 'lib', '.complete'), `${new Date().toISOString()}\n`);
      await rename(join(work, 'lib'), dir).catch((e) => { if (!existsSync(join(dir, '.complete'))) throw e; });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const java = (await findJava()).command;
  return { jar, run: async (...args) => (await run(java, ['-jar', jar, ...args], { maxBuffer: 64 << 20, timeout: 120_000 })).stdout };
}
