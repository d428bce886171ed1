/**
 * `millrace dev up | status | down` end to end, as a user runs them: the real CLI in a child process, with its own
 * directory (`--dir`) and free ports, so that it never touches a `millrace dev up` running with the defaults. The
 * jar cache is the usual one (`MILLRACE_CACHE_DIR`, `XDG_CACHE_HOME` or `~/.cache/millrace`): jars are shared,
 * data, logs and state are not.
 *
 * One lifecycle, step by step: up → status (ports, pids, versions, directories; Kafka answers a metadata request,
 * WebHDFS a GETFILESTATUS) → up again (a no-op that says so, same pids) → down (the JVMs are gone, the data stays)
 * → up (the topic, its record and the HDFS directory written before are still there) → down --wipe (the data is
 * gone). Then: a taken port is refused before anything starts, with a message naming it and the flag that moves it.
 *
 * Needs `packages/cli/dist` (`npm test` builds it; else `npx tsc -b`). Whatever the test started is stopped in
 * `after`, also when a step fails: `dev down` for the recorded services, then SIGKILL for any JVM still running
 * from the test's directories.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { HADOOP_VERSION, KAFKA_VERSION } from '@millrace/devservices';
import { createTopics } from './kafka-kit.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

/** Output of one CLI run. */
interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** CLI processes still running, so that `after` can interrupt them (their SIGTERM handler stops half-started JVMs). */
const runningCli = new Set<ChildProcess>();

/**
 * The environment of the CLI: ours without the `MILLRACE_*` settings a test run exports (they would choose ports
 * and directories behind the flags' back), except the jar cache.
 */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('MILLRACE_') || key === 'MILLRACE_CACHE_DIR') env[key] = value;
  }
  return env;
}

/** Runs `millrace dev <args>` and collects its output. */
function dev(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'dev', ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    runningCli.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (error) => {
      runningCli.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      runningCli.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `dev <args>` that must succeed; fails showing both outputs otherwise. */
async function devOk(...args: string[]): Promise<CliResult> {
  const result = await dev(...args);
  assert.equal(result.code, 0, `millrace dev ${args.join(' ')} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
}

/** `count` distinct ports that are free on 127.0.0.1 right now (held together while choosing, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(0));
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A TCP server listening on 127.0.0.1:`port` (0: any free port). */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/**
 * Whether process `pid` exists and has not exited. A zombie (exited, not yet reaped by its parent: a detached JVM
 * is reaped by whatever adopted it) still answers `kill(pid, 0)`, so on Linux its state in /proc decides.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line mentions `dir` (Linux; elsewhere none). */
function processesUnder(dir: string): number[] {
  if (!existsSync('/proc/self/cmdline')) return [];
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir) && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** The pid `dev up`/`dev status` prints for a service, from its block of text ("Kafka 4.4.0: …\n  …\n  pid 123, …"). */
function pidOf(output: string, label: 'Kafka' | 'HDFS'): number {
  const block = new RegExp(`^${label} \\S+: [^\\n]*\\n(?:  [^\\n]*\\n)*?  pid (\\d+),`, 'm').exec(output);
  assert.ok(block, `no pid for ${label} in:\n${output}`);
  return Number(block[1]);
}

/** A kafkajs admin for `brokers`, quiet, failing fast; disconnected by the caller. */
function kafkaClient(broker: string): Kafka {
  return new Kafka({ clientId: 'dev-cli-test', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** WebHDFS `op` on `path` as `user`; returns the HTTP status and the JSON body (if any). */
async function webhdfs(base: string, user: string, method: 'GET' | 'PUT', path: string, op: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/webhdfs/v1${path}?op=${op}&user.name=${user}`, { method, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('millrace dev up, status and down', { timeout: 900_000 }, () => {
  const id = randomUUID().slice(0, 8);
  const user = 'lifecycle';
  const topic = `dev-cli-${id}`;
  const hdfsDir = `/dev-cli-${id}`;
  let root: string;
  let dir: string;
  let flags: string[];
  let kafkaPort: number;
  let controllerPort: number;
  let hdfsPort: number;
  let webhdfsPort: number;
  let broker: string;
  let webhdfsUrl: string;
  let kafkaPid: number;
  let hdfsPid: number;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'millrace-dev-cli-'));
    dir = join(root, 'dev');
    [kafkaPort, controllerPort, hdfsPort, webhdfsPort] = (await freePorts(4)) as [number, number, number, number];
    broker = `127.0.0.1:${kafkaPort}`;
    webhdfsUrl = `http://127.0.0.1:${webhdfsPort}`;
    flags = [
      '--dir', dir,
      '--kafka-port', String(kafkaPort),
      '--kafka-controller-port', String(controllerPort),
      '--hdfs-port', String(hdfsPort),
      '--webhdfs-port', String(webhdfsPort),
      '--hdfs-user', user,
    ];
  });

  after(async () => {
    for (const child of runningCli) child.kill('SIGTERM');
    await Promise.all([...runningCli].map((child) => new Promise((resolve) => child.once('close', resolve))));
    if (root === undefined) return;
    const down = await dev('down', '--dir', dir, '--wipe');
    const left = processesUnder(root);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
    assert.equal(down.code, 0, `cleaning up with \`millrace dev down\` failed:\n${down.stdout}\n${down.stderr}`);
    assert.deepEqual(left, [], 'JVMs still ran after `millrace dev down`; they have been killed');
  });

  it('up starts Kafka and HDFS on the chosen ports and returns once they answer', async () => {
    const up = await devOk('up', ...flags);
    assert.match(up.stdout, new RegExp(`^Kafka ${KAFKA_VERSION}: started$`, 'm'));
    assert.match(up.stdout, new RegExp(`^HDFS ${HADOOP_VERSION}: started$`, 'm'));
    assert.match(up.stdout, new RegExp(`^export MILLRACE_KAFKA_BROKERS=${broker}$`, 'm'));
    assert.match(up.stdout, new RegExp(`^export MILLRACE_WEBHDFS_URL=${webhdfsUrl}$`, 'm'));
    kafkaPid = pidOf(up.stdout, 'Kafka');
    hdfsPid = pidOf(up.stdout, 'HDFS');
    assert.ok(isAlive(kafkaPid) && isAlive(hdfsPid), `pids ${kafkaPid} and ${hdfsPid} run`);
  });

  it('status shows versions, ports, pids, data and log directories, and the services answer there', async () => {
    const status = await devOk('status', '--dir', dir);
    const out = status.stdout;
    assert.match(out, new RegExp(`^Kafka ${KAFKA_VERSION}: running, answering \\(cluster \\S+\\)$`, 'm'));
    assert.match(out, new RegExp(`^  brokers ${broker} \\(controller port ${controllerPort}\\)$`, 'm'));
    assert.match(out, new RegExp(`^HDFS ${HADOOP_VERSION}: running, answering \\(1 live DataNode\\)$`, 'm'));
    assert.match(out, new RegExp(`^  WebHDFS ${webhdfsUrl}, NameNode hdfs://127\\.0\\.0\\.1:${hdfsPort}, user ${user}$`, 'm'));
    assert.equal(pidOf(out, 'Kafka'), kafkaPid);
    assert.equal(pidOf(out, 'HDFS'), hdfsPid);
    for (const line of [`  data ${join(dir, 'kafka')}`, `  log  ${join(dir, 'logs', 'kafka.log')}`, `  data ${join(dir, 'hdfs')}`, `  log  ${join(dir, 'logs', 'hdfs.log')}`]) {
      assert.ok(out.split('\n').includes(line), `status shows "${line}":\n${out}`);
    }
    assert.ok(existsSync(join(dir, 'logs', 'kafka.log')) && existsSync(join(dir, 'logs', 'hdfs.log')), 'the log files exist');

    // Our own clients, not the CLI's probes: a metadata request and a topic with a record; a directory on HDFS.
    const admin = kafkaClient(broker).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), [broker]);
      await createTopics(admin, [{ topic, numPartitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    const producer = kafkaClient(broker).producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'kept across down and up' }] });
    } finally {
      await producer.disconnect();
    }
    const rootStatus = await webhdfs(webhdfsUrl, user, 'GET', '/', 'GETFILESTATUS');
    assert.equal(rootStatus.status, 200);
    const mkdirs = await webhdfs(webhdfsUrl, user, 'PUT', hdfsDir, 'MKDIRS');
    assert.deepEqual([mkdirs.status, mkdirs.body], [200, { boolean: true }]);
  });

  it('up again while they run does nothing and says so', async () => {
    const again = await devOk('up', ...flags);
    assert.match(again.stdout, /^Already running \(started earlier by `millrace dev up --dir .*`\); nothing to do/);
    assert.doesNotMatch(again.stdout + again.stderr, /started$|Starting/m);
    assert.equal(pidOf(again.stdout, 'Kafka'), kafkaPid);
    assert.equal(pidOf(again.stdout, 'HDFS'), hdfsPid);
  });

  it('down stops both JVMs and keeps the data', async () => {
    const down = await devOk('down', '--dir', dir);
    assert.match(down.stdout, new RegExp(`^Stopped Kafka ${KAFKA_VERSION} \\(pid ${kafkaPid}\\)\\.$`, 'm'));
    assert.match(down.stdout, new RegExp(`^Stopped HDFS ${HADOOP_VERSION} \\(pid ${hdfsPid}\\)\\.$`, 'm'));
    assert.ok(down.stdout.includes(`Data kept in ${dir} (\`millrace dev down --dir ${dir} --wipe\` deletes it).`), down.stdout);
    // `down` returns once the processes are gone: no waiting here.
    assert.equal(isAlive(kafkaPid), false, `Kafka (pid ${kafkaPid}) has exited`);
    assert.equal(isAlive(hdfsPid), false, `HDFS (pid ${hdfsPid}) has exited`);
    assert.ok(existsSync(join(dir, 'kafka', 'meta.properties')), 'the Kafka data directory is kept');
    assert.ok(existsSync(join(dir, 'hdfs')), 'the HDFS data directory is kept');
    const status = await devOk('status', '--dir', dir);
    assert.match(status.stdout, /^No dev services recorded in /);
    const down2 = await devOk('down', '--dir', dir);
    assert.match(down2.stdout, /^No dev services were running\./);
  });

  it('up after down finds the topic, its record and the HDFS directory written before', async () => {
    const up = await devOk('up', ...flags);
    assert.match(up.stdout, new RegExp(`^Kafka ${KAFKA_VERSION}: started$`, 'm'));
    assert.doesNotMatch(up.stderr, /Formatting the Kafka data directory|formatting a new namespace/);
    kafkaPid = pidOf(up.stdout, 'Kafka');
    hdfsPid = pidOf(up.stdout, 'HDFS');
    const admin = kafkaClient(broker).admin();
    await admin.connect();
    try {
      assert.ok((await admin.listTopics()).includes(topic), `topic ${topic} survived the restart`);
      const offsets = await admin.fetchTopicOffsets(topic);
      assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]), [[0, '0', '1']]);
    } finally {
      await admin.disconnect();
    }
    const status = await webhdfs(webhdfsUrl, user, 'GET', hdfsDir, 'GETFILESTATUS');
    assert.equal(status.status, 200, `${hdfsDir} survived the restart: ${JSON.stringify(status.body)}`);
    assert.equal((status.body as { FileStatus: { type: string; owner: string } }).FileStatus.type, 'DIRECTORY');
  });

  it('down --wipe stops them and deletes the data', async () => {
    const down = await devOk('down', '--dir', dir, '--wipe');
    assert.match(down.stdout, new RegExp(`^Stopped Kafka ${KAFKA_VERSION} \\(pid ${kafkaPid}\\)\\.$`, 'm'));
    assert.match(down.stdout, /^Deleted the data in /m);
    assert.equal(isAlive(kafkaPid), false, `Kafka (pid ${kafkaPid}) has exited`);
    assert.equal(isAlive(hdfsPid), false, `HDFS (pid ${hdfsPid}) has exited`);
    assert.equal(existsSync(join(dir, 'kafka')), false, 'the Kafka data directory is gone');
    assert.equal(existsSync(join(dir, 'hdfs')), false, 'the HDFS data directory is gone');
    assert.ok(existsSync(join(dir, 'logs', 'kafka.log')), 'the logs are kept');
  });

  for (const { name, only, flag, what } of [
    { name: 'the Kafka port', only: ['--only', 'kafka'], flag: '--kafka-port', what: 'Kafka port' },
    { name: 'the WebHDFS port, before Kafka is started', only: [], flag: '--webhdfs-port', what: 'WebHDFS port' },
  ]) {
    it(`a taken port is refused at once, naming it and the flag that moves it: ${name}`, async () => {
      const taken = await listen(0);
      const port = (taken.address() as { port: number }).port;
      const takenDir = join(root, `taken-${flag.slice(2)}`);
      const others = (await freePorts(4)).map(String);
      const ports = { '--kafka-port': others[0]!, '--kafka-controller-port': others[1]!, '--hdfs-port': others[2]!, '--webhdfs-port': others[3]!, [flag]: String(port) };
      try {
        const up = await dev('up', ...only, '--dir', takenDir, ...Object.entries(ports).flat());
        assert.equal(up.code, 1, `exit code 1 for a taken port:\n${up.stdout}\n${up.stderr}`);
        assert.match(up.stderr, new RegExp(`^millrace dev up: ${what} ${port} on 127\\.0\\.0\\.1 is already in use\\b.*${flag} / MILLRACE_`, 'm'));
        assert.doesNotMatch(up.stderr, /Starting|Resolving|Formatting/, 'nothing was started before the check');
        assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
      const status = await devOk('status', '--dir', takenDir);
      assert.match(status.stdout, /^No dev services recorded in /);
      assert.deepEqual(processesUnder(takenDir), []);
    });
  }
});
