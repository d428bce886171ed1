/**
 * `millrace dev up | down | status`: real Kafka and HDFS on 127.0.0.1 for development, from
 * `@millrace/devservices`. `up` starts them in the background and returns once they answer their probes;
 * `down` stops them (data kept unless `--wipe`); `status` shows what runs where.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import {
  DevServicesError,
  FS_SHELL_MAIN_CLASS,
  prepareHadoopClient,
  HADOOP_VERSION,
  KAFKA_VERSION,
  devServicesStatus,
  parseDevCommandArgs,
  probeKafka,
  probeWebHdfs,
  resolveDevServicesConfig,
  startDevServices,
  stopDevServices,
  writeDevState,
  type DevCommandArgs,
  type DevServicesConfig,
  type ServiceDetails,
  type ServiceName,
  type ServiceStatus,
} from '@millrace/devservices';

/** Where a command writes; tests pass their own. */
export interface CommandIo {
  /** Normal output. */
  readonly out: (text: string) => void;
  /** Progress and errors. */
  readonly err: (text: string) => void;
}

const SERVICE_LABEL: Record<ServiceName, string> = { kafka: 'Kafka', hdfs: 'HDFS' };

const DEV_HELP = `Usage: millrace dev <up|down|status|hdfs> [flags]

Real Apache Kafka ${KAFKA_VERSION} (KRaft, one node) and HDFS ${HADOOP_VERSION} (NameNode + DataNode, WebHDFS)
on 127.0.0.1, from Maven Central jars. Needs Java 17+ and Maven; jars are resolved once into the cache.

Commands:
  up       start the services in the background; returns once they answer
  down     stop them (data is kept unless --wipe)
  status   show what runs where: ports, pids, versions, data and log directories
  hdfs     run Hadoop's own shell (\`hdfs dfs\`) on the dev HDFS: millrace dev hdfs -ls -R /

Run \`millrace dev <command> --help\` for its flags.`;

const COMMON_FLAGS = `  --dir <path>          data, logs and state       env MILLRACE_DEV_DIR     default <cache>/dev
  --cache-dir <path>    jar cache                  env MILLRACE_CACHE_DIR   default $XDG_CACHE_HOME/millrace or ~/.cache/millrace`;

const SUB_HELP: Record<'up' | 'down' | 'status', string> = {
  up: `Usage: millrace dev up [flags]

Starts Kafka and HDFS in the background and waits until Kafka answers a metadata request and WebHDFS answers
GETFILESTATUS with a live DataNode. A second \`up\` while they run does nothing and says so.

Flags:
  --kafka-port <n>             Kafka clients       env MILLRACE_KAFKA_PORT             default 9092
  --kafka-controller-port <n>  KRaft controller    env MILLRACE_KAFKA_CONTROLLER_PORT  default 9093
  --hdfs-port <n>              NameNode RPC        env MILLRACE_HDFS_PORT              default 9000
  --webhdfs-port <n>           NameNode HTTP       env MILLRACE_WEBHDFS_PORT           default 9870
  --hdfs-user <name>           WebHDFS user.name   env MILLRACE_HDFS_USER              default your user name
  --only <kafka|hdfs>          start one service only
  --timeout <duration>         readiness limit     env MILLRACE_DEV_START_TIMEOUT      default 180s
${COMMON_FLAGS}
  --json                       print the services as JSON
  -h, --help                   show this help`,
  down: `Usage: millrace dev down [flags]

Stops the services started by \`millrace dev up\` (SIGTERM, then SIGKILL after the timeout). Data is kept for the
next \`up\` unless --wipe.

Flags:
  --wipe                  also delete the Kafka and HDFS data directories
  --timeout <duration>    time to exit cleanly before SIGKILL, default 60s
${COMMON_FLAGS}
  -h, --help              show this help`,
  status: `Usage: millrace dev status [flags]

Shows the services started by \`millrace dev up\`: whether they run and answer, ports, pids, versions, data and
log directories, and the environment variables that point tests and jobs at them.

Flags:
${COMMON_FLAGS}
  --json                  print the services as JSON
  -h, --help              show this help`,
};

function exportsFor(services: readonly ServiceDetails[]): string[] {
  const lines: string[] = [];
  for (const s of services) {
    if (s.service === 'kafka') lines.push(`export MILLRACE_KAFKA_BROKERS=${s.endpoints.brokers}`);
    if (s.service === 'hdfs') {
      lines.push(`export MILLRACE_WEBHDFS_URL=${s.endpoints.webhdfs}`, `export MILLRACE_HDFS_URI=${s.endpoints.fs}`, `export MILLRACE_HDFS_USER=${s.endpoints.user}`);
    }
  }
  return lines;
}

function describe(s: ServiceDetails, state: string): string {
  const where =
    s.service === 'kafka'
      ? `brokers ${s.endpoints.brokers} (controller port ${s.ports.controller})`
      : `WebHDFS ${s.endpoints.webhdfs}, NameNode ${s.endpoints.fs}, user ${s.endpoints.user}`;
  return [
    `${SERVICE_LABEL[s.service]} ${s.version}: ${state}`,
    `  ${where}`,
    `  pid ${s.pid}, ready in ${(s.startupMs / 1000).toFixed(1)} s at ${new Date(s.readyAt).toISOString()}`,
    `  data ${s.dataDir}`,
    `  log  ${s.logFile}`,
  ].join('\n');
}

async function probe(s: ServiceDetails): Promise<string> {
  try {
    if (s.service === 'kafka') {
      const result = await probeKafka((s.endpoints.brokers ?? '').split(','), 2_000);
      return `running, answering (cluster ${result.clusterId})`;
    }
    const result = await probeWebHdfs(s.endpoints.webhdfs!, s.endpoints.user ?? 'millrace', 2_000);
    return `running, answering (${result.liveDataNodes} live DataNode)`;
  } catch (error) {
    return `running, NOT answering (${(error as Error).message})`;
  }
}

/** ` --dir <dir>` when the user chose a directory, so that printed commands act on the same instance. */
function dirFlag(args: DevCommandArgs): string {
  return args.options.workDir ? ` --dir ${args.options.workDir}` : '';
}

async function up(args: DevCommandArgs, config: DevServicesConfig, io: CommandIo): Promise<number> {
  const wanted = args.services ?? (['kafka', 'hdfs'] as const);
  const recorded = await devServicesStatus(config);
  const running = recorded.filter((s) => s.running).map((s) => s.details);
  const missing = wanted.filter((name) => !running.some((s) => s.service === name));
  if (missing.length === 0) {
    if (args.json) io.out(JSON.stringify({ alreadyRunning: true, services: running }, null, 2));
    else {
      io.out(`Already running (started earlier by \`millrace dev up${dirFlag(args)}\`); nothing to do (ports and other flags of this call are not applied: \`millrace dev down${dirFlag(args)}\` first to change them).\n`);
      for (const s of running) io.out(describe(s, 'running'));
      io.out(`\n${exportsFor(running).join('\n')}`);
    }
    return 0;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = await startDevServices({ config, services: missing, detached: true, signal: controller.signal, log: io.err });
    const services = [...running, ...[started.kafka, started.hdfs].flatMap((s) => (s ? [s.details] : []))];
    await writeDevState(config.workDir, { ownerPid: process.pid, detached: true, services });
    if (args.json) io.out(JSON.stringify({ alreadyRunning: false, services }, null, 2));
    else {
      for (const s of services) io.out(describe(s, running.includes(s) ? 'already running' : 'started'));
      io.out(`\nStop with \`millrace dev down${dirFlag(args)}\`. Point tests and jobs at them with:\n${exportsFor(services).join('\n')}`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function down(args: DevCommandArgs, config: DevServicesConfig, io: CommandIo): Promise<number> {
  const report = await stopDevServices(config, { wipe: args.wipe });
  if (report.stopped.length === 0) io.out('No dev services were running.');
  for (const s of report.stopped) io.out(`Stopped ${SERVICE_LABEL[s.service]} ${s.version} (pid ${s.pid}).`);
  io.out(report.wiped ? `Deleted the data in ${config.kafka.dataDir} and ${config.hdfs.dataDir}.` : `Data kept in ${config.workDir} (\`millrace dev down${dirFlag(args)} --wipe\` deletes it).`);
  return 0;
}

async function status(args: DevCommandArgs, config: DevServicesConfig, io: CommandIo): Promise<number> {
  const recorded: ServiceStatus[] = await devServicesStatus(config);
  if (args.json) {
    io.out(JSON.stringify({ workDir: config.workDir, services: recorded.map((s) => ({ ...s.details, running: s.running })) }, null, 2));
    return 0;
  }
  if (recorded.length === 0) {
    io.out(`No dev services recorded in ${config.workDir}. Start them with \`millrace dev up${dirFlag(args)}\`.`);
    return 0;
  }
  for (const s of recorded) io.out(describe(s.details, s.running ? await probe(s.details) : 'NOT running (stopped or crashed; see its log)'));
  const live = recorded.filter((s) => s.running).map((s) => s.details);
  if (live.length > 0) io.out(`\n${exportsFor(live).join('\n')}`);
  return 0;
}

const HDFS_HELP = `Usage: millrace dev hdfs <FsShell arguments>

Runs Hadoop's own file system shell (org.apache.hadoop.fs.FsShell, the class behind \`hdfs dfs\`) from the dev
services' jars, with its arguments as given, against the dev HDFS (\`millrace dev up\`) or the NameNode named by
MILLRACE_HDFS_URI (as user MILLRACE_HDFS_USER when set). Exits with the shell's exit code. Examples:

  millrace dev hdfs -ls -R /millrace/examples/iot
  millrace dev hdfs -text '/millrace/examples/iot/*/*/part-*.avro'
  millrace dev hdfs -cat /data/readings/dt=2026-11-01/hour=08/part-0-0.jsonl

Globs match hidden files too: Millrace's in-progress and pending part files start with a dot, so list final files
with a pattern like part-*.avro. Java 17+ and Maven are needed (the jars are resolved once into the cache).
  -h, --help   show this help (\`millrace dev hdfs -help\` shows FsShell's own)`;

/** Where `dev hdfs` finds the NameNode: MILLRACE_HDFS_URI, else the running dev HDFS. */
async function hdfsTarget(config: DevServicesConfig): Promise<{ fsUri: string; user: string | undefined }> {
  const fromEnv = process.env.MILLRACE_HDFS_URI;
  if (fromEnv) return { fsUri: fromEnv, user: process.env.MILLRACE_HDFS_USER };
  const hdfs = (await devServicesStatus(config)).find((s) => s.details.service === 'hdfs' && s.running)?.details;
  if (!hdfs?.endpoints.fs) {
    throw new DevServicesError('not-running', `no dev HDFS is running in ${config.workDir}: start it with \`millrace dev up\`, or set MILLRACE_HDFS_URI (e.g. hdfs://namenode:8020) for another HDFS`);
  }
  return { fsUri: hdfs.endpoints.fs, user: process.env.MILLRACE_HDFS_USER ?? hdfs.endpoints.user };
}

/** `millrace dev hdfs …`: Hadoop's FsShell with the given arguments; its output and exit code pass through. */
async function hdfsShell(argv: readonly string[], io: CommandIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    (argv.length === 0 ? io.err : io.out)(HDFS_HELP);
    return argv.length === 0 ? 2 : 0;
  }
  try {
    const config = resolveDevServicesConfig({});
    const { fsUri, user } = await hdfsTarget(config);
    const client = await prepareHadoopClient(fsUri, { cacheDir: config.cacheDir, ...(user ? { user } : {}) });
    const child = spawn(client.java, ['-cp', client.classpath, FS_SHELL_MAIN_CLASS, ...argv], { env: client.env, stdio: 'inherit' });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      // Killed by a signal: 128 + its number, as shells report it (SIGINT: 130).
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
    });
  } catch (error) {
    if (error instanceof DevServicesError) {
      io.err(`millrace dev hdfs: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** The `dev` entry of the command table in `bin.ts`. */
export const devCommand = {
  /** One line for `millrace --help`. */
  summary: 'start, stop and inspect real Kafka and HDFS for development (up | down | status | hdfs)',
  /**
   * Runs `millrace dev ...`.
   *
   * @param argv - arguments after `dev`
   * @param io - where to print
   * @returns the process exit code: 0 on success, 1 on failure, 2 on a usage error
   */
  async run(argv: readonly string[], io: CommandIo): Promise<number> {
    // Everything after `dev hdfs` belongs to Hadoop's shell, whose flags look like ours.
    if (argv[0] === 'hdfs') return hdfsShell(argv.slice(1), io);
    let args: DevCommandArgs;
    try {
      args = parseDevCommandArgs(argv);
    } catch (error) {
      io.err(`millrace dev: ${(error as Error).message}`);
      return 2;
    }
    if (args.help || args.subcommand === undefined) {
      (args.help ? io.out : io.err)(args.subcommand ? SUB_HELP[args.subcommand] : DEV_HELP);
      return args.help ? 0 : 2;
    }
    try {
      const config = resolveDevServicesConfig(args.options);
      if (args.subcommand === 'up') return await up(args, config, io);
      if (args.subcommand === 'down') return await down(args, config, io);
      return await status(args, config, io);
    } catch (error) {
      if (error instanceof DevServicesError) {
        io.err(`millrace dev ${args.subcommand}: ${error.message}`);
        return error.code === 'bad-config' ? 2 : 1;
      }
      throw error;
    }
  },
};
