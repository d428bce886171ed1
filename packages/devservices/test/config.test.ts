import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { DevServicesError, defaultCacheDir, parseDuration, resolveDevServicesConfig } from '../src/index.js';

describe('resolveDevServicesConfig', () => {
  it('uses Kafka and Hadoop default ports and the XDG cache directory', () => {
    const config = resolveDevServicesConfig({}, { XDG_CACHE_HOME: '/x/cache', MILLRACE_HDFS_USER: 'alice' });
    assert.equal(config.cacheDir, '/x/cache/millrace');
    assert.equal(config.workDir, '/x/cache/millrace/dev');
    assert.equal(config.logDir, '/x/cache/millrace/dev/logs');
    assert.deepEqual(
      [config.kafka.port, config.kafka.controllerPort, config.hdfs.rpcPort, config.hdfs.httpPort],
      [9092, 9093, 9000, 9870],
    );
    assert.equal(config.kafka.dataDir, '/x/cache/millrace/dev/kafka');
    assert.equal(config.hdfs.dataDir, '/x/cache/millrace/dev/hdfs');
    assert.equal(config.hdfs.user, 'alice');
    assert.equal(config.startTimeoutMs, 180_000);
  });

  it('falls back to ~/.cache/millrace without XDG_CACHE_HOME', () => {
    assert.equal(defaultCacheDir({}), join(homedir(), '.cache', 'millrace'));
    assert.equal(defaultCacheDir({ MILLRACE_CACHE_DIR: '/c' }), '/c');
  });

  it('reads ports, directories and the timeout from the environment', () => {
    const config = resolveDevServicesConfig(
      {},
      {
        MILLRACE_CACHE_DIR: '/c',
        MILLRACE_DEV_DIR: '/d',
        MILLRACE_KAFKA_PORT: '19092',
        MILLRACE_KAFKA_CONTROLLER_PORT: '19093',
        MILLRACE_HDFS_PORT: '19000',
        MILLRACE_WEBHDFS_PORT: '19870',
        MILLRACE_DEV_START_TIMEOUT: '5m',
      },
    );
    assert.equal(config.cacheDir, '/c');
    assert.equal(config.workDir, '/d');
    assert.deepEqual([config.kafka.port, config.kafka.controllerPort, config.hdfs.rpcPort, config.hdfs.httpPort], [19092, 19093, 19000, 19870]);
    assert.equal(config.startTimeoutMs, 300_000);
  });

  it('lets options win over the environment', () => {
    const config = resolveDevServicesConfig(
      { workDir: '/w', kafka: { port: 29092 }, hdfs: { user: 'bob' }, startTimeout: '90s' },
      { MILLRACE_KAFKA_PORT: '19092', MILLRACE_HDFS_USER: 'alice', MILLRACE_DEV_START_TIMEOUT: '5m' },
    );
    assert.equal(config.kafka.port, 29092);
    assert.equal(config.hdfs.user, 'bob');
    assert.equal(config.kafka.dataDir, '/w/kafka');
    assert.equal(config.startTimeoutMs, 90_000);
  });

  it('rejects a port that is not a port, naming the variable', () => {
    assert.throws(
      () => resolveDevServicesConfig({}, { MILLRACE_KAFKA_PORT: 'ninety' }),
      (error: DevServicesError) => error.code === 'bad-config' && /MILLRACE_KAFKA_PORT/.test(error.message),
    );
    assert.throws(() => resolveDevServicesConfig({ hdfs: { httpPort: 70_000 } }, {}), /WebHDFS port/);
  });

  it('rejects two services on one port', () => {
    assert.throws(
      () => resolveDevServicesConfig({ kafka: { port: 9000 } }, {}),
      (error: DevServicesError) => error.code === 'bad-config' && /Kafka port and HDFS NameNode port are both 9000/.test(error.message),
    );
  });

  it('rejects an HDFS user name that cannot go into a query string as is', () => {
    assert.throws(() => resolveDevServicesConfig({ hdfs: { user: 'a b' } }, {}), /MILLRACE_HDFS_USER/);
  });
});

describe('parseDuration', () => {
  it('reads milliseconds and unit suffixes', () => {
    assert.deepEqual(
      [parseDuration(250, 'x'), parseDuration('250', 'x'), parseDuration('250ms', 'x'), parseDuration('5s', 'x'), parseDuration('3m', 'x'), parseDuration('1h', 'x'), parseDuration('1.5s', 'x')],
      [250, 250, 250, 5_000, 180_000, 3_600_000, 1_500],
    );
  });

  it('names the setting when it cannot read the value', () => {
    assert.throws(() => parseDuration('soon', 'start timeout'), /start timeout: cannot read "soon"/);
    assert.throws(() => parseDuration(-1, 'stop timeout'), /stop timeout/);
  });
});
