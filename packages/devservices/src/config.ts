import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { DevServicesError } from './errors.js';
import { parseDuration, type Duration } from './duration.js';

/** The only address the dev services listen on and advertise. */
export const DEV_SERVICES_HOST = '127.0.0.1';

/** Default ports: Kafka's and Hadoop 3's usual ones, so client defaults and docs apply unchanged. */
export const DEFAULT_PORTS = Object.freeze({ kafka: 9092, kafkaController: 9093, hdfs: 9000, webhdfs: 9870 });

/** Default time a service gets to become ready: generous, because a cold JVM on a busy 2-core machine is slow. */
export const DEFAULT_START_TIMEOUT_MS = 180_000;

/** Default time a service gets to exit after SIGTERM before it is killed. */
export const DEFAULT_STOP_TIMEOUT_MS = 60_000;

/** Settings of the Kafka broker (KRaft, broker and controller in one process). */
export interface KafkaSettings {
  /** Client port (PLAINTEXT listener). */
  readonly port: number;
  /** KRaft controller port. */
  readonly controllerPort: number;
  /** Log directory (topic data and metadata log); kept across restarts. */
  readonly dataDir: string;
  /** Extra JVM options, appended after the defaults (`-Xms256m -Xmx1g`, G1). */
  readonly jvmOptions: readonly string[];
}

/** Settings of HDFS (one NameNode and one DataNode in one process). */
export interface HdfsSettings {
  /** NameNode RPC port (`hdfs://127.0.0.1:<port>`). */
  readonly rpcPort: number;
  /** NameNode HTTP port, which serves WebHDFS. */
  readonly httpPort: number;
  /** Base directory of NameNode and DataNode storage; kept across restarts. */
  readonly dataDir: string;
  /** User name sent as `user.name` by clients and probes. */
  readonly user: string;
  /** Extra JVM options, appended after the defaults (`-Xms256m -Xmx1g`, `--add-opens` for Java 17). */
  readonly jvmOptions: readonly string[];
}

/** Fully resolved configuration; build it with {@link resolveDevServicesConfig}. */
export interface DevServicesConfig {
  /** Where resolved jars live: `$MILLRACE_CACHE_DIR`, else `$XDG_CACHE_HOME/millrace`, else `~/.cache/millrace`. */
  readonly cacheDir: string;
  /** Root of data, logs and the state file. */
  readonly workDir: string;
  /** Service logs; kept after the services stop. */
  readonly logDir: string;
  /** How long a service may take to become ready. */
  readonly startTimeoutMs: number;
  /** How long a service may take to exit after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs: number;
  /** Kafka settings. */
  readonly kafka: KafkaSettings;
  /** HDFS settings. */
  readonly hdfs: HdfsSettings;
}

/** Options that override environment variables and defaults; every field is optional. */
export interface DevServicesOptions {
  /** Jar cache directory. Env: `MILLRACE_CACHE_DIR`. */
  readonly cacheDir?: string;
  /** Data, logs and state root. Env: `MILLRACE_DEV_DIR`. Default: `<cacheDir>/dev`. */
  readonly workDir?: string;
  /** Readiness deadline per service. Env: `MILLRACE_DEV_START_TIMEOUT`. Default: 180 s. */
  readonly startTimeout?: Duration;
  /** Exit deadline after SIGTERM. Default: 60 s. */
  readonly stopTimeout?: Duration;
  /** Kafka overrides. Env: `MILLRACE_KAFKA_PORT`, `MILLRACE_KAFKA_CONTROLLER_PORT`. */
  readonly kafka?: Partial<KafkaSettings>;
  /** HDFS overrides. Env: `MILLRACE_HDFS_PORT`, `MILLRACE_WEBHDFS_PORT`, `MILLRACE_HDFS_USER`. */
  readonly hdfs?: Partial<HdfsSettings>;
}

/** The environment variables read by {@link resolveDevServicesConfig}. */
export type DevServicesEnv = Readonly<Record<string, string | undefined>>;

function port(value: number | string | undefined, fallback: number, what: string): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new DevServicesError('bad-config', `${what}: "${String(value)}" is not a port; use an integer from 1 to 65535`);
  }
  return n;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'millrace';
  }
}

/**
 * The jar cache directory: `$MILLRACE_CACHE_DIR`, else `$XDG_CACHE_HOME/millrace`, else `~/.cache/millrace`.
 *
 * @param env - environment to read, `process.env` by default
 */
export function defaultCacheDir(env: DevServicesEnv = process.env): string {
  if (env.MILLRACE_CACHE_DIR) return resolve(env.MILLRACE_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'millrace');
  return join(homedir(), '.cache', 'millrace');
}

/**
 * Resolves options, then environment variables, then defaults into a complete configuration.
 * Pure apart from reading the OS user name; it touches no file.
 *
 * @param options - explicit overrides (highest precedence)
 * @param env - environment to read, `process.env` by default
 * @throws DevServicesError `bad-config` naming the setting that cannot be read, or two services sharing a port
 */
export function resolveDevServicesConfig(options: DevServicesOptions = {}, env: DevServicesEnv = process.env): DevServicesConfig {
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir(env));
  const workDir = resolve(options.workDir ?? env.MILLRACE_DEV_DIR ?? join(cacheDir, 'dev'));
  const startTimeoutMs = parseDuration(options.startTimeout ?? env.MILLRACE_DEV_START_TIMEOUT ?? DEFAULT_START_TIMEOUT_MS, 'start timeout (MILLRACE_DEV_START_TIMEOUT)');
  const stopTimeoutMs = parseDuration(options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS, 'stop timeout');
  const kafka: KafkaSettings = {
    port: port(options.kafka?.port ?? env.MILLRACE_KAFKA_PORT, DEFAULT_PORTS.kafka, 'Kafka port (MILLRACE_KAFKA_PORT)'),
    controllerPort: port(
      options.kafka?.controllerPort ?? env.MILLRACE_KAFKA_CONTROLLER_PORT,
      DEFAULT_PORTS.kafkaController,
      'Kafka controller port (MILLRACE_KAFKA_CONTROLLER_PORT)',
    ),
    dataDir: resolve(options.kafka?.dataDir ?? join(workDir, 'kafka')),
    jvmOptions: options.kafka?.jvmOptions ?? [],
  };
  const hdfs: HdfsSettings = {
    rpcPort: port(options.hdfs?.rpcPort ?? env.MILLRACE_HDFS_PORT, DEFAULT_PORTS.hdfs, 'HDFS NameNode port (MILLRACE_HDFS_PORT)'),
    httpPort: port(options.hdfs?.httpPort ?? env.MILLRACE_WEBHDFS_PORT, DEFAULT_PORTS.webhdfs, 'WebHDFS port (MILLRACE_WEBHDFS_PORT)'),
    dataDir: resolve(options.hdfs?.dataDir ?? join(workDir, 'hdfs')),
    user: options.hdfs?.user ?? (env.MILLRACE_HDFS_USER || defaultUser()),
    jvmOptions: options.hdfs?.jvmOptions ?? [],
  };
  const ports = [
    ['Kafka port', kafka.port],
    ['Kafka controller port', kafka.controllerPort],
    ['HDFS NameNode port', hdfs.rpcPort],
    ['WebHDFS port', hdfs.httpPort],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i]![1] === ports[j]![1]) {
        throw new DevServicesError('bad-config', `${ports[i]![0]} and ${ports[j]![0]} are both ${ports[i]![1]}; give each service its own port`);
      }
    }
  }
  if (!/^[A-Za-z0-9._-]+$/.test(hdfs.user)) {
    throw new DevServicesError('bad-config', `HDFS user "${hdfs.user}" (MILLRACE_HDFS_USER) may hold only letters, digits, ".", "_" and "-"`);
  }
  return { cacheDir, workDir, logDir: join(workDir, 'logs'), startTimeoutMs, stopTimeoutMs, kafka, hdfs };
}
