import { rm } from 'node:fs/promises';
import { resolveDevServicesConfig, type DevServicesConfig, type DevServicesOptions } from './config.js';
import { findJava } from './java.js';
import { startHdfs } from './hdfs-service.js';
import { startKafka } from './kafka-service.js';
import { resolveJars } from './maven-resolver.js';
import { assertPortsFree, servicePorts } from './ports.js';
import type { HdfsService, KafkaService, ServiceDetails } from './service.js';
import { stopServiceProcess } from './service-process.js';
import { readDevState, removeDevState, runningServices, writeDevState } from './state-file.js';
import type { ServiceName } from './versions.js';

/** Options of {@link startDevServices}. */
export interface StartDevServicesOptions {
  /** Overrides of environment variables and defaults; ignored when `config` is given. */
  readonly options?: DevServicesOptions;
  /** A configuration resolved beforehand. */
  readonly config?: DevServicesConfig;
  /** Which services to start; both by default. */
  readonly services?: readonly ServiceName[];
  /** `true` for `millrace dev up`: the JVMs outlive this process. Default `false`. */
  readonly detached?: boolean;
  /** Cancels start-up; JVMs already launched are stopped. */
  readonly signal?: AbortSignal;
  /** Progress messages for people. */
  readonly log?: (message: string) => void;
}

/**
 * Running dev services owned by this process. `close()` stops them all (in parallel), is idempotent, and runs
 * through `await using`. Ownership is recorded in `<workDir>/state.json` until closed.
 */
export interface DevServices extends AsyncDisposable {
  /** The configuration they were started with. */
  readonly config: DevServicesConfig;
  /** Kafka, when started. */
  readonly kafka: KafkaService | undefined;
  /** HDFS, when started. */
  readonly hdfs: HdfsService | undefined;
  /** Stops every service; resolves once all JVMs have exited. */
  close(): Promise<void>;
}

/**
 * Starts Kafka and HDFS (or the chosen subset) and resolves once every one answers its readiness probe.
 * The ports of every chosen service are checked first, so that a taken one fails before anything is resolved or
 * launched. Jars are resolved next, one service after the other (Maven's local repository is not made for concurrent
 * writers); the JVMs then start in parallel. When one service fails, the others are stopped before the error
 * is rethrown.
 *
 * @throws DevServicesError `port-in-use` naming the first taken port; otherwise from the failing service (see
 * `startKafka`, `startHdfs`)
 */
export async function startDevServices(options: StartDevServicesOptions = {}): Promise<DevServices> {
  const config = options.config ?? resolveDevServicesConfig(options.options);
  const wanted = new Set<ServiceName>(options.services ?? ['kafka', 'hdfs']);
  const common = {
    config,
    detached: options.detached ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  // Every port first: a taken HDFS port must not cost a Kafka start and stop (nor a first jar resolution) to report.
  await assertPortsFree([...wanted].flatMap((service) => servicePorts(config, service)));
  const java = await findJava(options.signal ? { signal: options.signal } : {});
  for (const service of wanted) {
    await resolveJars(service, { cacheDir: config.cacheDir, ...(options.signal ? { signal: options.signal } : {}), ...(options.log ? { log: options.log } : {}) });
  }
  const kafkaStart = wanted.has('kafka') ? startKafka({ ...common, java }) : Promise.resolve(undefined);
  const hdfsStart = wanted.has('hdfs') ? startHdfs({ ...common, java }) : Promise.resolve(undefined);
  const [kafka, hdfs] = await Promise.allSettled([kafkaStart, hdfsStart]);
  if (kafka.status === 'rejected' || hdfs.status === 'rejected') {
    await Promise.all([
      kafka.status === 'fulfilled' ? kafka.value?.close() : undefined,
      hdfs.status === 'fulfilled' ? hdfs.value?.close() : undefined,
    ]);
    throw kafka.status === 'rejected' ? kafka.reason : (hdfs as PromiseRejectedResult).reason;
  }
  const services = [kafka.value, hdfs.value].filter((s) => s !== undefined);
  await writeDevState(config.workDir, { ownerPid: process.pid, detached: common.detached, services: services.map((s) => s.details) });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all(services.map((s) => s.close()));
      await removeDevState(config.workDir);
    })());
  return { config, kafka: kafka.value, hdfs: hdfs.value, close, [Symbol.asyncDispose]: close };
}

/** What {@link stopDevServices} did. */
export interface StopReport {
  /** Services that were running and have been stopped. */
  readonly stopped: readonly ServiceDetails[];
  /** Whether data directories were deleted. */
  readonly wiped: boolean;
}

/**
 * Stops the services recorded in `<workDir>/state.json` (those of `millrace dev up`), SIGTERM first, and removes
 * the state file. Data is kept unless `wipe` is set, which deletes the Kafka and HDFS data directories.
 * Safe to call when nothing runs.
 */
export async function stopDevServices(config: DevServicesConfig, options: { wipe?: boolean } = {}): Promise<StopReport> {
  const state = await readDevState(config.workDir);
  const running = runningServices(state);
  await Promise.all(running.map((s) => stopServiceProcess(s.pid, s.mainClass, config.stopTimeoutMs, `${s.service} (pid ${s.pid})`)));
  await removeDevState(config.workDir);
  if (options.wipe) {
    const dataDirs = new Set([config.kafka.dataDir, config.hdfs.dataDir, ...(state?.services ?? []).map((s) => s.dataDir)]);
    await Promise.all([...dataDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  }
  return { stopped: running, wiped: options.wipe ?? false };
}

/** Status of one service as recorded and as seen now. */
export interface ServiceStatus {
  /** Recorded details. */
  readonly details: ServiceDetails;
  /** Whether its JVM is running. */
  readonly running: boolean;
}

/** The services recorded in `<workDir>/state.json` and whether each still runs. */
export async function devServicesStatus(config: DevServicesConfig): Promise<ServiceStatus[]> {
  const state = await readDevState(config.workDir);
  const running = new Set(runningServices(state).map((s) => s.pid));
  return (state?.services ?? []).map((details) => ({ details, running: running.has(details.pid) }));
}
