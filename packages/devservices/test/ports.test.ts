import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevServicesError, assertPortsFree, isPortFree, resolveDevServicesConfig, servicePorts, startDevServices } from '../src/index.js';

function listen(host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('port-in-use detection', () => {
  it('sees a port taken on 127.0.0.1 and free again once closed', async () => {
    const { server, port } = await listen('127.0.0.1');
    assert.equal(await isPortFree(port), false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(await isPortFree(port), true);
  });

  it('sees a port taken on all interfaces as taken on 127.0.0.1', async () => {
    const { server, port } = await listen('0.0.0.0');
    try {
      assert.equal(await isPortFree(port), false);
    } finally {
      server.close();
    }
  });

  it('names the port and the setting that moves it', async () => {
    const { server, port } = await listen('127.0.0.1');
    try {
      await assert.rejects(
        assertPortsFree([{ port, what: 'Kafka port', setting: '--kafka-port / MILLRACE_KAFKA_PORT' }]),
        (error: DevServicesError) =>
          error.code === 'port-in-use' &&
          error.message.includes(`Kafka port ${port} on 127.0.0.1 is already in use`) &&
          error.message.includes('--kafka-port / MILLRACE_KAFKA_PORT') &&
          error.message.includes('millrace dev down'),
      );
    } finally {
      server.close();
    }
  });
});

describe('ports of the services', () => {
  it('names each port of a service with the flag and variable that choose it', () => {
    const config = resolveDevServicesConfig({ kafka: { port: 1, controllerPort: 2 }, hdfs: { rpcPort: 3, httpPort: 4 } }, {});
    assert.deepEqual(
      servicePorts(config, 'kafka').map((p) => [p.port, p.setting]),
      [[1, '--kafka-port / MILLRACE_KAFKA_PORT'], [2, '--kafka-controller-port / MILLRACE_KAFKA_CONTROLLER_PORT']],
    );
    assert.deepEqual(
      servicePorts(config, 'hdfs').map((p) => [p.port, p.setting]),
      [[3, '--hdfs-port / MILLRACE_HDFS_PORT'], [4, '--webhdfs-port / MILLRACE_WEBHDFS_PORT']],
    );
  });

  it('startDevServices refuses a taken HDFS port before it resolves or starts anything, Kafka included', async () => {
    const { server, port } = await listen('127.0.0.1');
    const dir = await mkdtemp(join(tmpdir(), 'millrace-ports-'));
    const progress: string[] = [];
    try {
      const ports = await Promise.all([listen('127.0.0.1'), listen('127.0.0.1'), listen('127.0.0.1')]);
      await Promise.all(ports.map((p) => new Promise((resolve) => p.server.close(resolve))));
      const [kafkaPort, controllerPort, rpcPort] = ports.map((p) => p.port);
      const config = resolveDevServicesConfig(
        { workDir: join(dir, 'dev'), cacheDir: join(dir, 'cache'), kafka: { port: kafkaPort, controllerPort }, hdfs: { rpcPort, httpPort: port } },
        {},
      );
      await assert.rejects(
        startDevServices({ config, log: (message) => progress.push(message) }),
        (error: DevServicesError) => error.code === 'port-in-use' && error.message.includes(`WebHDFS port ${port} on 127.0.0.1 is already in use`),
      );
      assert.deepEqual(progress, [], 'no jar resolution and no start was reported');
      assert.deepEqual(await readdir(dir), [], 'nothing was written: no cache, no data, no state');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
