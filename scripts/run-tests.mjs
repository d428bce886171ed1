#!/usr/bin/env node
// Runs the integration and end-to-end tests under a directory against real Kafka and HDFS.
//
//   node scripts/run-tests.mjs <dir> [extra `node --test` flags, e.g. --test-name-pattern=kcat]
//
// Finds every *.test.ts under <dir>, gets the dev services once for the whole run (MILLRACE_KAFKA_BROKERS and
// MILLRACE_WEBHDFS_URL when set, else a running `millrace dev up`, else starts them from
// packages/devservices/dist, which `npm test` builds first), exports where they are to the test processes, runs
// `node --import tsx --test --test-concurrency=1 <files>`, stops what it started (also on failure and on
// SIGINT/SIGTERM) and exits with the test runner's exit code.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const [dirArg = 'test', ...runnerFlags] = process.argv.slice(2);
const dir = resolve(dirArg);

/** Every *.test.ts below `from`, sorted, skipping node_modules and dot-directories. */
async function findTests(from) {
  const found = [];
  let entries;
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return found;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(from, entry.name);
    if (entry.isDirectory()) found.push(...(await findTests(path)));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found.sort();
}

const files = await findTests(dir);
if (files.length === 0) {
  console.log(`run-tests: no *.test.ts under ${relative(root, dir) || '.'}; nothing to run.`);
  process.exit(0);
}

const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
let lease;
let stopping;
const stopServices = () => (stopping ??= lease ? lease.close() : Promise.resolve());

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };
const starting = new AbortController();
let child;
let signalled;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signalled ??= signal;
    // While starting: abort, which stops any JVM already launched. While testing: let the runner finish first.
    if (child) child.kill(signal);
    else starting.abort(new Error(`${signal} received`));
  });
}

if (!env.MILLRACE_KAFKA_BROKERS || !env.MILLRACE_WEBHDFS_URL) {
  const devservices = pathToFileURL(join(root, 'packages', 'devservices', 'dist', 'index.js')).href;
  let api;
  try {
    api = await import(devservices);
  } catch (error) {
    console.error(`run-tests: cannot load ${devservices} (${error.message}); build first with \`npx tsc -b\` (npm test does).`);
    process.exit(1);
  }
  const began = Date.now();
  try {
    lease = await api.useDevServices({ signal: starting.signal, log: (message) => console.error(`run-tests: ${message}`) });
  } catch (error) {
    if (signalled) process.exit(SIGNAL_EXIT[signalled]);
    console.error(`run-tests: the dev services did not start.\n${error.message}`);
    process.exit(1);
  }
  const sources = Object.entries(lease.sources).map(([service, source]) => `${service} from ${source}`).join(', ');
  console.error(`run-tests: dev services ready in ${((Date.now() - began) / 1000).toFixed(1)} s (${sources})`);
  if (lease.kafka) env.MILLRACE_KAFKA_BROKERS = lease.kafka.brokers.join(',');
  if (lease.hdfs) {
    env.MILLRACE_WEBHDFS_URL = lease.hdfs.webhdfsUrl;
    env.MILLRACE_HDFS_URI = lease.hdfs.fsUri;
    env.MILLRACE_HDFS_USER = lease.hdfs.user;
  }
}
if (signalled) {
  await stopServices();
  process.exit(SIGNAL_EXIT[signalled]);
}

console.error(`run-tests: ${files.length} file(s) under ${relative(root, dir) || '.'}; Kafka ${env.MILLRACE_KAFKA_BROKERS}, WebHDFS ${env.MILLRACE_WEBHDFS_URL}`);
child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...runnerFlags, ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const code = await new Promise((resolveExit) => {
  child.once('error', (error) => {
    console.error(`run-tests: could not start the test runner: ${error.message}`);
    resolveExit(1);
  });
  child.once('exit', (exitCode, signal) => resolveExit(signalled ? SIGNAL_EXIT[signalled] : (exitCode ?? SIGNAL_EXIT[signal] ?? 1)));
});
try {
  await stopServices();
} catch (error) {
  console.error(`run-tests: stopping the dev services failed: ${error.message}`);
  process.exit(code === 0 ? 1 : code);
}
process.exit(code);
