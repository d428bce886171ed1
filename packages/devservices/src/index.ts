/**
 * @packageDocumentation
 * `@millrace/devservices`: real Apache Kafka (KRaft, one node) and HDFS (NameNode and DataNode, WebHDFS) for
 * development and tests, from Maven Central jars run with plain `java -cp`. Needs Java 17+ and Maven; nothing else.
 *
 * - Tests: {@link useDevServices} (reuses `MILLRACE_KAFKA_BROKERS` / `MILLRACE_WEBHDFS_URL` or a running
 *   `millrace dev up`, otherwise starts the services once and stops them at `close()`).
 * - Tools: {@link startDevServices}, {@link stopDevServices}, {@link devServicesStatus} (behind `millrace dev`).
 * - Pieces: {@link startKafka}, {@link startHdfs}, {@link resolveJars}, {@link probeKafka}, {@link probeWebHdfs},
 *   {@link prepareHadoopClient}.
 *
 * Depends on kafkajs (the readiness probe) and Node built-ins only; no other Millrace package.
 */
export { DevServicesError, type DevServicesErrorCode } from './errors.js';
export { parseDuration, type Duration } from './duration.js';
export {
  DEFAULT_PORTS,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEV_SERVICES_HOST,
  defaultCacheDir,
  resolveDevServicesConfig,
  type DevServicesConfig,
  type DevServicesEnv,
  type DevServicesOptions,
  type HdfsSettings,
  type KafkaSettings,
} from './config.js';
export { HADOOP_VERSION, KAFKA_VERSION, MAVEN_DEPENDENCY_PLUGIN_VERSION, type ServiceName } from './versions.js';
export { findJava, javaCommand, parseJavaMajorVersion, MINIMUM_JAVA_VERSION, type JavaRuntime } from './java.js';
export { resolveJars, pomPath, type ResolveJarsOptions, type ResolvedJars } from './maven-resolver.js';
export { isPortFree, assertPortsFree, servicePorts, type NamedPort } from './ports.js';
export { readLogTail } from './log-tail.js';
export { pollUntil, type PollOptions } from './poll.js';
export { probeKafka, type KafkaProbeResult } from './kafka-probe.js';
export { probeWebHdfs, type WebHdfsProbeResult } from './webhdfs-probe.js';
export type { HdfsService, KafkaService, ServiceDetails, ServiceHandle } from './service.js';
export { startKafka, kafkaServerProperties, KAFKA_MAIN_CLASS, type StartServiceOptions } from './kafka-service.js';
export { startHdfs, HDFS_MAIN_CLASS, JAVA17_ADD_OPENS } from './hdfs-service.js';
export {
  startDevServices,
  stopDevServices,
  devServicesStatus,
  type DevServices,
  type ServiceStatus,
  type StartDevServicesOptions,
  type StopReport,
} from './dev-services.js';
export { readDevState, writeDevState, stateFilePath, type DevState } from './state-file.js';
export {
  useDevServices,
  type DevServicesLease,
  type HdfsEndpoint,
  type KafkaEndpoint,
  type LeaseSource,
  type UseDevServicesOptions,
} from './use-dev-services.js';
export { prepareHadoopClient, FS_SHELL_MAIN_CLASS, type HadoopClient } from './hadoop-client.js';
export { parseDevCommandArgs, type DevCommandArgs, type DevSubcommand } from './dev-command-args.js';
