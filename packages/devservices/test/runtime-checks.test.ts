import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DevServicesError,
  HADOOP_VERSION,
  KAFKA_VERSION,
  findJava,
  kafkaServerProperties,
  parseJavaMajorVersion,
  pomPath,
  readLogTail,
  resolveDevServicesConfig,
  resolveJars,
} from '../src/index.js';

describe('java detection', () => {
  it('reads the feature release from java -version output', () => {
    assert.equal(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15'), 17);
    assert.equal(parseJavaMajorVersion('java version "1.8.0_392"'), 8);
    assert.equal(parseJavaMajorVersion('openjdk version "21" 2023-09-19'), 21);
    assert.equal(parseJavaMajorVersion('no version here'), undefined);
  });

  it('says how to install Java when there is none', async () => {
    await assert.rejects(
      findJava({ env: { PATH: '/nonexistent', JAVA_HOME: '/nonexistent' } }),
      (error: DevServicesError) => error.code === 'java-missing' && /Java 17 or later/.test(error.message) && /JAVA_HOME/.test(error.message),
    );
  });

  it('refuses a Java older than 17, naming the one it found', async () => {
    const home = await mkdtemp(join(tmpdir(), 'millrace-old-java-'));
    try {
      await mkdir(join(home, 'bin'));
      await writeFile(join(home, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.25" 2024-10-15\' >&2\n', { mode: 0o755 });
      await assert.rejects(
        findJava({ env: { PATH: '/nonexistent', JAVA_HOME: home } }),
        (error: DevServicesError) =>
          error.code === 'java-missing' &&
          error.message.startsWith(`${join(home, 'bin', 'java')} is Java 11; the dev services need Java 17 or later.`) &&
          /JAVA_HOME/.test(error.message),
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('jar resolution', () => {
  it('pins the versions the code announces in the committed poms', () => {
    assert.match(readFileSync(pomPath('kafka'), 'utf8'), new RegExp(`<kafka.version>${KAFKA_VERSION.replaceAll('.', '\\.')}</kafka.version>`));
    assert.match(readFileSync(pomPath('hdfs'), 'utf8'), new RegExp(`<hadoop.version>${HADOOP_VERSION.replaceAll('.', '\\.')}</hadoop.version>`));
  });

  it('says how to install Maven when it is missing and the cache is empty', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'millrace-cache-'));
    try {
      await assert.rejects(
        resolveJars('kafka', { cacheDir, env: { PATH: '/nonexistent' } }),
        (error: DevServicesError) => error.code === 'mvn-missing' && /Install Maven/.test(error.message) && /MILLRACE_KAFKA_BROKERS/.test(error.message),
      );
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('Kafka server.properties', () => {
  it('runs broker and controller in one process with a static voter on loopback', () => {
    const text = kafkaServerProperties(resolveDevServicesConfig({ workDir: '/w', kafka: { port: 19092, controllerPort: 19093 } }, {}));
    const props = Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    assert.equal(props['process.roles'], 'broker,controller');
    assert.equal(props['controller.quorum.voters'], '1@127.0.0.1:19093');
    assert.equal(props['listeners'], 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    assert.equal(props['advertised.listeners'], 'PLAINTEXT://127.0.0.1:19092');
    assert.equal(props['log.dirs'], '/w/kafka');
    assert.equal(props['offsets.topic.replication.factor'], '1');
    assert.equal(props['transaction.state.log.replication.factor'], '1');
    assert.equal(props['transaction.state.log.min.isr'], '1');
  });
});

describe('readLogTail', () => {
  it('returns the last lines, or nothing for a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'millrace-log-'));
    try {
      const file = join(dir, 'service.log');
      await writeFile(file, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
      assert.equal(await readLogTail(file, 3), 'line 97\nline 98\nline 99');
      assert.equal(await readLogTail(join(dir, 'missing.log')), '');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('DevServicesError', () => {
  it('appends the log tail to the message', () => {
    const error = new DevServicesError('start-timeout', 'Timed out.', { logTail: 'ERROR boom' });
    assert.equal(error.message, 'Timed out.\n--- last lines of the log ---\nERROR boom');
    assert.equal(error.logTail, 'ERROR boom');
  });
});
