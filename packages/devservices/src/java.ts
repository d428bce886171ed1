import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DevServicesError } from './errors.js';
import { CommandNotFoundError, runCommand } from './run-command.js';

/** The lowest Java feature release the services are run on (Kafka 4 requires 17). */
export const MINIMUM_JAVA_VERSION = 17;

/** A Java runtime found on this machine. */
export interface JavaRuntime {
  /** Path or name of the `java` executable. */
  readonly command: string;
  /** Feature release, e.g. 17. */
  readonly major: number;
  /** First line of `java -version`. */
  readonly description: string;
}

/**
 * The `java` executable: `$JAVA_HOME/bin/java` when `JAVA_HOME` is set and holds one, else `java` from `PATH`.
 *
 * @param env - environment to read, `process.env` by default
 */
export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JAVA_HOME) {
    const candidate = join(env.JAVA_HOME, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

/**
 * Reads the feature release from `java -version` output (`version "17.0.15"`, `version "1.8.0_392"`).
 *
 * @returns the feature release, or `undefined` when the text has no version
 */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * Finds a Java runtime of at least {@link MINIMUM_JAVA_VERSION}.
 *
 * @throws DevServicesError `java-missing` when there is none, or it is too old
 */
export async function findJava(options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<JavaRuntime> {
  const env = options.env ?? process.env;
  const command = javaCommand(env);
  let output: string;
  try {
    const result = await runCommand(command, ['-version'], { env, ...(options.signal ? { signal: options.signal } : {}) });
    output = result.stderr + result.stdout;
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      throw new DevServicesError(
        'java-missing',
        `Java was not found (looked for ${command}). The dev services need Java ${MINIMUM_JAVA_VERSION} or later: ` +
          'install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME to a JDK.',
      );
    }
    throw error;
  }
  const major = parseJavaMajorVersion(output);
  if (major === undefined || major < MINIMUM_JAVA_VERSION) {
    throw new DevServicesError(
      'java-missing',
      `${command} is Java ${major ?? '(unknown version)'}; the dev services need Java ${MINIMUM_JAVA_VERSION} or later. ` +
        'Install a newer JDK and put it first on PATH, or set JAVA_HOME to it.',
    );
  }
  return { command, major, description: output.split('\n')[0]!.trim() };
}
