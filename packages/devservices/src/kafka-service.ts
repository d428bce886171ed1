import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_SERVICES_HOST, type DevServicesConfig } from './config.js';
import { DevServicesError, throwIfAborted } from './errors.js';
import { findJava, type JavaRuntime } from './java.js';
import { probeKafka } from './kafka-probe.js';
import { resolveJars } from './maven-resolver.js';
import { assertPortsFree, servicePorts } from './ports.js';
import { runCommand } from './run-command.js';
import type { KafkaService, ServiceDetails } from './service.js';
import { makeServiceHandle, startJavaService } from './start-java-service.js';
import { KAFKA_VERSION } from './versions.js';

/** Main class of the broker (`bin/kafka-server-start.sh`). */
export const KAFKA_MAIN_CLASS = 'kafka.Kafka';

/** Options shared by the start functions. */
export interface StartServiceOptions {
  /** Resolved configuration (see `resolveDevServicesConfig`). */
  readonly config: DevServicesConfig;
  /** Cancels resolution and start-up; a JVM already launched is stopped. */
  readonly signal?: AbortSignal;
  /** `true` for `millrace dev up`: the JVM outlives this process. Default `false`: it dies with it. */
  readonly detached?: boolean;
  /** Progress messages for people. */
  readonly log?: (message: string) => void;
  /** A Java runtime already found, to skip looking again. */
  readonly java?: JavaRuntime;
}

/**
 * The broker's `server.properties`: KRaft combined mode (broker and controller in one process) with a static
 * voter, listening and advertising on 127.0.0.1 only, and internal topics sized for one node.
 */
export function kafkaServerProperties(config: DevServicesConfig): string {
  const { port, controllerPort, dataDir } = config.kafka;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${DEV_SERVICES_HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${DEV_SERVICES_HOST}:${port},CONTROLLER://${DEV_SERVICES_HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${DEV_SERVICES_HOST}:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    // One partition each: the first group join and the first transaction are quicker on a small machine.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'share.coordinator.state.topic.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

const LOG4J2_PROPERTIES = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = info',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  // The per-request and config dumps drown the lines that explain a failure.
  'logger.config.name = org.apache.kafka.common.config.AbstractConfig',
  'logger.config.level = warn',
  '',
].join('\n');

/** JVM options of the broker: the distribution's GC settings with a modest heap. */
function kafkaJvmOptions(config: DevServicesConfig, log4jFile: string): string[] {
  return [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${config.logDir}`,
    ...config.kafka.jvmOptions,
  ];
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, never starting with "-". */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Starts a single-node Kafka broker (KRaft, broker and controller in one JVM) and resolves once it answers a
 * metadata request. The first run resolves the jars with Maven and formats the data directory; later runs reuse
 * both, so topics and offsets survive a restart.
 *
 * @throws DevServicesError `java-missing`, `mvn-missing`, `resolve-failed`, `port-in-use`, `process-exited`,
 * `start-timeout` (with the log tail) or `aborted`
 */
export async function startKafka(options: StartServiceOptions): Promise<KafkaService> {
  const { config, signal } = options;
  const java = options.java ?? (await findJava(signal ? { signal } : {}));
  await assertPortsFree(servicePorts(config, 'kafka'));
  const jars = await resolveJars('kafka', { cacheDir: config.cacheDir, ...(signal ? { signal } : {}), ...(options.log ? { log: options.log } : {}) });
  throwIfAborted(signal, 'starting Kafka');

  const confDir = join(config.workDir, 'conf', 'kafka');
  await Promise.all([mkdir(confDir, { recursive: true }), mkdir(config.logDir, { recursive: true }), mkdir(config.kafka.dataDir, { recursive: true })]);
  const serverProperties = join(confDir, 'server.properties');
  const log4jFile = join(confDir, 'log4j2.properties');
  await writeFile(serverProperties, kafkaServerProperties(config));
  await writeFile(log4jFile, LOG4J2_PROPERTIES);

  if (!existsSync(join(config.kafka.dataDir, 'meta.properties'))) {
    options.log?.(`Formatting the Kafka data directory ${config.kafka.dataDir}...`);
    const format = await runCommand(
      java.command,
      [`-Dlog4j2.configurationFile=${log4jFile}`, '-cp', jars.classpath, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', serverProperties, '--ignore-formatted'],
      signal ? { signal } : {},
    );
    await writeFile(join(config.logDir, 'kafka-format.log'), format.stdout + format.stderr);
    if (format.code !== 0) {
      throw new DevServicesError(
        'process-exited',
        `Formatting the Kafka data directory ${config.kafka.dataDir} failed (exit code ${format.code}). ` +
          'If the directory holds data from another Kafka, delete it or use `millrace dev down --wipe`.',
        { logTail: (format.stdout + format.stderr).trim().split('\n').slice(-40).join('\n') },
      );
    }
  }

  const brokers = [`${DEV_SERVICES_HOST}:${config.kafka.port}`];
  const logFile = join(config.logDir, 'kafka.log');
  options.log?.(`Starting Kafka ${KAFKA_VERSION} on ${brokers[0]}...`);
  const { process: proc, startupMs } = await startJavaService({
    what: `Kafka on ${brokers[0]}`,
    launch: {
      java: java.command,
      classpath: jars.classpath,
      mainClass: KAFKA_MAIN_CLASS,
      jvmOptions: kafkaJvmOptions(config, log4jFile),
      args: [serverProperties],
      logFile,
      cwd: config.workDir,
      detached: options.detached ?? false,
    },
    probe: async () => {
      const result = await probeKafka(brokers);
      return result.brokerIds.length > 0 && result.controller !== null ? result : undefined;
    },
    timeoutMs: config.startTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    ...(signal ? { signal } : {}),
  });
  const details: ServiceDetails = {
    service: 'kafka',
    version: KAFKA_VERSION,
    pid: proc.pid,
    mainClass: KAFKA_MAIN_CLASS,
    ports: { client: config.kafka.port, controller: config.kafka.controllerPort },
    endpoints: { brokers: brokers.join(',') },
    dataDir: config.kafka.dataDir,
    logFile,
    readyAt: Date.now(),
    startupMs,
  };
  return makeServiceHandle(details, config.stopTimeoutMs, { brokers });
}
