import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_SERVICES_HOST } from './config.js';
import { throwIfAborted } from './errors.js';
import { findJava } from './java.js';
import type { StartServiceOptions } from './kafka-service.js';
import { resolveJars } from './maven-resolver.js';
import { assertPortsFree, servicePorts } from './ports.js';
import type { HdfsService, ServiceDetails } from './service.js';
import { makeServiceHandle, startJavaService } from './start-java-service.js';
import { HADOOP_VERSION } from './versions.js';
import { probeWebHdfs } from './webhdfs-probe.js';

/** Main class that runs a NameNode and DataNodes in one JVM (from `hadoop-client-minicluster`). */
export const HDFS_MAIN_CLASS = 'org.apache.hadoop.test.MiniDFSClusterManager';

/**
 * `--add-opens` needed by Hadoop 3.4 on Java 17 when started with plain `java -cp` (the set Spark uses;
 * Hadoop's own scripts add the same since HADOOP-19310).
 */
export const JAVA17_ADD_OPENS: readonly string[] = [
  'java.base/java.lang',
  'java.base/java.lang.invoke',
  'java.base/java.lang.reflect',
  'java.base/java.io',
  'java.base/java.net',
  'java.base/java.nio',
  'java.base/java.util',
  'java.base/java.util.concurrent',
  'java.base/java.util.concurrent.atomic',
  'java.base/jdk.internal.ref',
  'java.base/sun.nio.ch',
  'java.base/sun.nio.cs',
  'java.base/sun.security.action',
  'java.base/sun.util.calendar',
  'java.security.jgss/sun.security.krb5',
].map((pkg) => `--add-opens=${pkg}=ALL-UNNAMED`);

function log4jProperties(): string {
  return [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.Target=System.err',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // The audit log and the jersey registration warnings say nothing about failures.
    'log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN',
    'log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR',
    '',
  ].join('\n');
}

/**
 * Starts HDFS (one NameNode, one DataNode, replication 1, permissions off, WebHDFS on 127.0.0.1) in one JVM and
 * resolves once WebHDFS answers `GETFILESTATUS /` and the NameNode reports a live DataNode. The first run resolves
 * the jars and formats the data directory; later runs keep the namespace and blocks.
 *
 * @throws DevServicesError `java-missing`, `mvn-missing`, `resolve-failed`, `port-in-use`, `process-exited`,
 * `start-timeout` (with the log tail) or `aborted`
 */
export async function startHdfs(options: StartServiceOptions): Promise<HdfsService> {
  const { config, signal } = options;
  const java = options.java ?? (await findJava(signal ? { signal } : {}));
  await assertPortsFree(servicePorts(config, 'hdfs'));
  const jars = await resolveJars('hdfs', { cacheDir: config.cacheDir, ...(signal ? { signal } : {}), ...(options.log ? { log: options.log } : {}) });
  throwIfAborted(signal, 'starting HDFS');

  const confDir = join(config.workDir, 'conf', 'hdfs');
  const { dataDir, rpcPort, httpPort, user } = config.hdfs;
  await Promise.all([
    mkdir(confDir, { recursive: true }),
    mkdir(config.logDir, { recursive: true }),
    mkdir(dataDir, { recursive: true }),
  ]);
  const log4jFile = join(confDir, 'log4j.properties');
  await writeFile(log4jFile, log4jProperties());
  // MiniDFSClusterManager writes this file only after the cluster is active: one more sign of readiness.
  const writtenConfig = join(confDir, 'minicluster-site.xml');
  await rm(writtenConfig, { force: true });

  const formatted = existsSync(join(dataDir, 'name-0-1', 'current', 'VERSION'));
  const settings: Record<string, string> = {
    'hdfs.minidfs.basedir': dataDir,
    'hadoop.tmp.dir': join(dataDir, 'tmp'),
    'dfs.permissions.enabled': 'false',
    'dfs.replication': '1',
    'dfs.namenode.safemode.extension': '0',
    'dfs.client.block.write.replace-datanode-on-failure.enable': 'false',
    'hadoop.http.staticuser.user': user,
  };
  const args = [
    ...(formatted ? [] : ['-format']),
    '-datanodes',
    '1',
    '-nnport',
    String(rpcPort),
    '-httpport',
    String(httpPort),
    ...Object.entries(settings).flatMap(([key, value]) => ['-D', `${key}=${value}`]),
    '-writeConfig',
    writtenConfig,
  ];
  const webhdfsUrl = `http://${DEV_SERVICES_HOST}:${httpPort}`;
  const fsUri = `hdfs://${DEV_SERVICES_HOST}:${rpcPort}`;
  const logFile = join(config.logDir, 'hdfs.log');
  options.log?.(`Starting HDFS ${HADOOP_VERSION} (NameNode ${fsUri}, WebHDFS ${webhdfsUrl})${formatted ? '' : ', formatting a new namespace'}...`);
  const { process: proc, startupMs } = await startJavaService({
    what: `HDFS (WebHDFS ${webhdfsUrl})`,
    launch: {
      java: java.command,
      classpath: jars.classpath,
      mainClass: HDFS_MAIN_CLASS,
      jvmOptions: [
        '-Xms256m',
        '-Xmx1g',
        '-XX:+IgnoreUnrecognizedVMOptions',
        ...JAVA17_ADD_OPENS,
        '-Djava.net.preferIPv4Stack=true',
        `-Dlog4j.configuration=file:${log4jFile}`,
        ...config.hdfs.jvmOptions,
      ],
      args,
      logFile,
      cwd: dataDir,
      detached: options.detached ?? false,
    },
    probe: async () => (existsSync(writtenConfig) ? probeWebHdfs(webhdfsUrl, user) : undefined),
    timeoutMs: config.startTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    ...(signal ? { signal } : {}),
  });
  const details: ServiceDetails = {
    service: 'hdfs',
    version: HADOOP_VERSION,
    pid: proc.pid,
    mainClass: HDFS_MAIN_CLASS,
    ports: { rpc: rpcPort, http: httpPort },
    endpoints: { webhdfs: webhdfsUrl, fs: fsUri, user },
    dataDir,
    logFile,
    readyAt: Date.now(),
    startupMs,
  };
  return makeServiceHandle(details, config.stopTimeoutMs, { webhdfsUrl, fsUri, user });
}
