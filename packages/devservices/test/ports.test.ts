import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { DevServicesError, assertPortsFree, isPortFree } from '../src/index.js';

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
