import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir } from './config.js';
import { findJava } from './java.js';
import { resolveJars } from './maven-resolver.js';

/** How to run one of Hadoop's own client tools (e.g. `org.apache.hadoop.fs.FsShell`) against an HDFS. */
export interface HadoopClient {
  /** `java` executable. */
  readonly java: string;
  /** `-cp` value: a configuration directory (`core-site.xml`, `log4j.properties`), then the Hadoop jars. */
  readonly classpath: string;
  /** Environment for the tool: `HADOOP_USER_NAME` set to the user. */
  readonly env: NodeJS.ProcessEnv;
}

/** Class behind `hdfs dfs` / `hadoop fs`. */
export const FS_SHELL_MAIN_CLASS = 'org.apache.hadoop.fs.FsShell';

/**
 * Prepares a classpath for Hadoop's own command-line tools against `fsUri`, from the same jars the dev HDFS runs
 * on: an independent check of what the project writes through WebHDFS. Usage:
 * `spawn(client.java, ['-cp', client.classpath, FS_SHELL_MAIN_CLASS, '-ls', '-R', '/'], { env: client.env })`.
 *
 * @param fsUri - NameNode RPC URI, e.g. `hdfs://127.0.0.1:9000`
 * @param options - acting user (`HADOOP_USER_NAME`), jar cache directory, abort signal
 */
export async function prepareHadoopClient(
  fsUri: string,
  options: { user?: string; cacheDir?: string; signal?: AbortSignal } = {},
): Promise<HadoopClient> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const signal = options.signal ? { signal: options.signal } : {};
  const java = await findJava(signal);
  const jars = await resolveJars('hdfs', { cacheDir, ...signal });
  const confDir = join(cacheDir, 'hadoop-client', createHash('sha256').update(fsUri).digest('hex').slice(0, 12));
  await mkdir(confDir, { recursive: true });
  await writeFile(
    join(confDir, 'core-site.xml'),
    [
      '<?xml version="1.0"?>',
      '<configuration>',
      `  <property><name>fs.defaultFS</name><value>${fsUri}</value></property>`,
      '  <property><name>dfs.client.block.write.replace-datanode-on-failure.enable</name><value>false</value></property>',
      '</configuration>',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(confDir, 'log4j.properties'),
    [
      'log4j.rootLogger=WARN, stderr',
      'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stderr.Target=System.err',
      'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n',
      'log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.user) env.HADOOP_USER_NAME = options.user;
  return { java: java.command, classpath: `${confDir}:${jars.classpath}`, env };
}
