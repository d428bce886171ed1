import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DevServicesError, throwIfAborted } from './errors.js';
import { CommandNotFoundError, runCommand } from './run-command.js';
import { MAVEN_DEPENDENCY_PLUGIN_VERSION, type ServiceName } from './versions.js';

/** Jars of one service, resolved into the cache. */
export interface ResolvedJars {
  /** The service the jars belong to. */
  readonly service: ServiceName;
  /** Directory holding the jars. */
  readonly dir: string;
  /** A `java -cp` entry for all of them (`<dir>/*`). */
  readonly classpath: string;
  /** Whether this call ran Maven (false: the cache already had them). */
  readonly downloaded: boolean;
}

/** Options of {@link resolveJars}. */
export interface ResolveJarsOptions {
  /** Jar cache directory (see `DevServicesConfig.cacheDir`). */
  readonly cacheDir: string;
  /** Cancels a running Maven. */
  readonly signal?: AbortSignal;
  /** Progress messages for people, e.g. "resolving Kafka jars with Maven (first run only)". */
  readonly log?: (message: string) => void;
  /** Environment for `mvn` (e.g. `MAVEN_OPTS`), `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
}

const COMPLETE_MARKER = '.complete';

/** Path of the committed resolver pom of a service, shipped with this package. */
export function pomPath(service: ServiceName): string {
  return fileURLToPath(new URL(`../maven/${service}/pom.xml`, import.meta.url));
}

/**
 * Makes the jars of `service` available in the cache and returns where they are.
 *
 * The first call runs `mvn -B -q dependency:copy-dependencies` (plugin version pinned) on the committed pom; later
 * calls find the jars by the pom's hash and return at once, so editing the pom resolves afresh. Resolution goes
 * to a temporary directory renamed into place when complete, so an interrupted or concurrent run never leaves a
 * half-filled cache.
 *
 * @throws DevServicesError `mvn-missing` when Maven is not installed, `resolve-failed` with Maven's output when
 * resolution fails, `aborted` when `signal` fires
 */
export async function resolveJars(service: ServiceName, options: ResolveJarsOptions): Promise<ResolvedJars> {
  const pom = await readFile(pomPath(service), 'utf8');
  const hash = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const jarsRoot = join(options.cacheDir, 'jars');
  const dir = join(jarsRoot, `${service}-${hash}`);
  if (existsSync(join(dir, COMPLETE_MARKER))) {
    return { service, dir, classpath: join(dir, '*'), downloaded: false };
  }
  throwIfAborted(options.signal, `resolving the ${service} jars`);
  await mkdir(jarsRoot, { recursive: true });
  const work = await mkdtemp(join(jarsRoot, `.resolving-${service}-`));
  try {
    await writeFile(join(work, 'pom.xml'), pom);
    options.log?.(`Resolving ${service} jars from Maven Central into ${dir} (first run only)...`);
    const args = [
      '-B',
      '-q',
      '-f',
      join(work, 'pom.xml'),
      `org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${join(work, 'lib')}`,
    ];
    let result;
    try {
      result = await runCommand('mvn', args, {
        cwd: work,
        env: options.env ?? process.env,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (error instanceof CommandNotFoundError) {
        throw new DevServicesError(
          'mvn-missing',
          `Maven (mvn) was not found on PATH; it resolves the ${service} jars once into ${jarsRoot}. ` +
            'Install Maven 3.6 or later (Debian: apt-get install maven), or point MILLRACE_KAFKA_BROKERS / ' +
            'MILLRACE_WEBHDFS_URL at running services instead.',
        );
      }
      if (options.signal?.aborted) throw new DevServicesError('aborted', `resolving the ${service} jars was aborted`, { cause: error });
      throw error;
    }
    const jars = existsSync(join(work, 'lib')) ? (await readdir(join(work, 'lib'))).filter((f) => f.endsWith('.jar')) : [];
    if (result.code !== 0 || jars.length === 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
      throw new DevServicesError(
        'resolve-failed',
        `Maven could not resolve the ${service} jars (exit code ${result.code}). Check that Maven Central is ` +
          `reachable (proxy settings in ~/.m2/settings.xml), then run again. Command: mvn ${args.join(' ')}`,
        { logTail: output },
      );
    }
    await writeFile(join(work, 'lib', COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    try {
      await rename(join(work, 'lib'), dir);
    } catch (error) {
      // Another process finished the same resolution first; its result is as good as ours.
      if (!existsSync(join(dir, COMPLETE_MARKER))) throw error;
    }
    return { service, dir, classpath: join(dir, '*'), downloaded: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
