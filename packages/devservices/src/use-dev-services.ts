import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveDevServicesConfig, type DevServicesEnv, type DevServicesOptions } from './config.js';
import { startDevServices } from './dev-services.js';
import { HDFS_MAIN_CLASS } from './hdfs-service.js';
import { KAFKA_MAIN_CLASS } from './kafka-service.js';
import { findOrphanedServiceProcesses, stopServiceProcess } from './service-process.js';
import { readDevState, runningServices } from './state-file.js';
import type { ServiceName } from './versions.js';
import { probeWebHdfs } from './webhdfs-probe.js';

/** Kafka as a test sees it. */
export interface KafkaEndpoint {
  /** Bootstrap addresses. */
  readonly brokers: readonly string[];
}

/** HDFS as a test sees it. */
export interface HdfsEndpoint {
  /** WebHDFS base URL, e.g. `http://127.0.0.1:9870`. */
  readonly webhdfsUrl: string;
  /** NameNode RPC URI for Hadoop's own clients, e.g. `hdfs://127.0.0.1:9000`. */
  readonly fsUri: string;
  /** User name to send as `user.name`. */
  readonly user: string;
}

/** Where a leased service came from. */
export type LeaseSource = 'environment' | 'dev-up' | 'started';

/**
 * Services for one test file or test run. `close()` stops only what this lease started (services from the
 * environment or from `millrace dev up` are left alone); it is idempotent and runs through `await using`.
 */
export interface DevServicesLease extends AsyncDisposable {
  /** Kafka, when asked for. */
  readonly kafka: KafkaEndpoint | undefined;
  /** HDFS, when asked for. */
  readonly hdfs: HdfsEndpoint | undefined;
  /** Where each service came from. */
  readonly sources: Readonly<Partial<Record<ServiceName, LeaseSource>>>;
  /** Stops what this lease started and deletes its data (logs are kept); resolves once done. */
  close(): Promise<void>;
}

/** Options of {@link useDevServices}. */
export interface UseDevServicesOptions {
  /** Whether Kafka is needed; default `true`. */
  readonly kafka?: boolean;
  /** Whether HDFS is needed; default `true`. */
  readonly hdfs?: boolean;
  /** Overrides for services this lease starts. A `workDir` here is used as is (and its data deleted at close). */
  readonly options?: DevServicesOptions;
  /** Environment to read, `process.env` by default. */
  readonly env?: DevServicesEnv;
  /** Cancels start-up. */
  readonly signal?: AbortSignal;
  /** Progress messages for people. */
  readonly log?: (message: string) => void;
}

const KEEP_TEST_RUNS = 5;

/** `hdfs://host:port` from the environment, or from what the NameNode reports about itself. */
async function hdfsFsUri(webhdfsUrl: string, user: string, env: DevServicesEnv): Promise<string> {
  if (env.MILLRACE_HDFS_URI) return env.MILLRACE_HDFS_URI;
  const probe = await probeWebHdfs(webhdfsUrl, user);
  const host = new URL(webhdfsUrl).hostname;
  const port = probe.rpcAddress?.split(':').pop() ?? '9000';
  return `hdfs://${host}:${port}`;
}

/**
 * Stops JVMs left by earlier test runs whose owner died without stopping them (e.g. killed with SIGKILL, even
 * while the services were starting), and deletes all but the newest test-run directories.
 */
async function cleanUpTestRuns(root: string, stopTimeoutMs: number): Promise<void> {
  for (const orphan of findOrphanedServiceProcesses(root)) {
    const mainClass = [KAFKA_MAIN_CLASS, HDFS_MAIN_CLASS].find((name) => orphan.commandLine.includes(name));
    if (mainClass) await stopServiceProcess(orphan.pid, mainClass, stopTimeoutMs, `orphaned ${mainClass} (pid ${orphan.pid})`);
  }
  let entries: string[];
  try {
    entries = (await readdir(root)).sort();
  } catch {
    return;
  }
  for (const entry of entries) {
    const state = await readDevState(join(root, entry));
    if (!state || state.detached || isAlive(state.ownerPid)) continue;
    for (const service of runningServices(state)) {
      await stopServiceProcess(service.pid, service.mainClass, stopTimeoutMs, `orphaned ${service.service} (pid ${service.pid})`);
    }
  }
  for (const entry of entries.slice(0, Math.max(0, entries.length - KEEP_TEST_RUNS))) {
    const state = await readDevState(join(root, entry));
    if (state && isAlive(state.ownerPid)) continue;
    await rm(join(root, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Gives a test Kafka and/or HDFS, cheapest first:
 *
 * 1. `MILLRACE_KAFKA_BROKERS` / `MILLRACE_WEBHDFS_URL` (with `MILLRACE_HDFS_USER`, `MILLRACE_HDFS_URI`) when set;
 * 2. services of a running `millrace dev up`;
 * 3. otherwise starts them, with data in a fresh directory under `<cacheDir>/test-runs/`, deleted at `close()`
 *    (logs are kept there for the last five runs).
 *
 * Call it once per test run (the root test script does, and exports the environment variables to the test
 * processes), or once per file in `before`, with `close()` in `after`.
 *
 * @throws DevServicesError when services have to be started and cannot be (see `startDevServices`)
 */
export async function useDevServices(options: UseDevServicesOptions = {}): Promise<DevServicesLease> {
  const env = options.env ?? process.env;
  const wantKafka = options.kafka ?? true;
  const wantHdfs = options.hdfs ?? true;
  const config = resolveDevServicesConfig(options.options, env);
  const sources: Partial<Record<ServiceName, LeaseSource>> = {};
  let kafka: KafkaEndpoint | undefined;
  let hdfs: HdfsEndpoint | undefined;

  if (wantKafka && env.MILLRACE_KAFKA_BROKERS) {
    kafka = { brokers: env.MILLRACE_KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) };
    sources.kafka = 'environment';
  }
  if (wantHdfs && env.MILLRACE_WEBHDFS_URL) {
    const webhdfsUrl = env.MILLRACE_WEBHDFS_URL.replace(/\/+$/, '');
    hdfs = { webhdfsUrl, user: config.hdfs.user, fsUri: await hdfsFsUri(webhdfsUrl, config.hdfs.user, env) };
    sources.hdfs = 'environment';
  }
  if ((wantKafka && !kafka) || (wantHdfs && !hdfs)) {
    for (const service of runningServices(await readDevState(config.workDir))) {
      if (service.service === 'kafka' && wantKafka && !kafka) {
        kafka = { brokers: (service.endpoints.brokers ?? '').split(',') };
        sources.kafka = 'dev-up';
      }
      if (service.service === 'hdfs' && wantHdfs && !hdfs) {
        hdfs = { webhdfsUrl: service.endpoints.webhdfs!, fsUri: service.endpoints.fs!, user: service.endpoints.user ?? config.hdfs.user };
        sources.hdfs = 'dev-up';
      }
    }
  }
  const missing: ServiceName[] = [];
  if (wantKafka && !kafka) missing.push('kafka');
  if (wantHdfs && !hdfs) missing.push('hdfs');
  if (missing.length === 0) {
    const close = () => Promise.resolve();
    return { kafka, hdfs, sources, close, [Symbol.asyncDispose]: close };
  }

  const testRuns = join(config.cacheDir, 'test-runs');
  await cleanUpTestRuns(testRuns, config.stopTimeoutMs);
  const workDir = options.options?.workDir ?? join(testRuns, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  const runConfig = resolveDevServicesConfig({ ...options.options, workDir }, env);
  const started = await startDevServices({
    config: runConfig,
    services: missing,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  if (started.kafka) {
    kafka = { brokers: started.kafka.brokers };
    sources.kafka = 'started';
  }
  if (started.hdfs) {
    hdfs = { webhdfsUrl: started.hdfs.webhdfsUrl, fsUri: started.hdfs.fsUri, user: started.hdfs.user };
    sources.hdfs = 'started';
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await started.close();
      await Promise.all([runConfig.kafka.dataDir, runConfig.hdfs.dataDir].map((dir) => rm(dir, { recursive: true, force: true })));
    })());
  return { kafka, hdfs, sources, close, [Symbol.asyncDispose]: close };
}
