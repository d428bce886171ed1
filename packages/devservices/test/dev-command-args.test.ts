import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDevCommandArgs } from '../src/index.js';

describe('parseDevCommandArgs', () => {
  it('reads a subcommand with no flags', () => {
    const args = parseDevCommandArgs(['up']);
    assert.equal(args.subcommand, 'up');
    assert.equal(args.help, false);
    assert.deepEqual(args.options, {});
    assert.equal(args.services, undefined);
  });

  it('reads ports, directories, user and timeout as --flag value and --flag=value', () => {
    const args = parseDevCommandArgs([
      'up',
      '--kafka-port',
      '19092',
      '--kafka-controller-port=19093',
      '--hdfs-port',
      '19000',
      '--webhdfs-port=19870',
      '--hdfs-user',
      'alice',
      '--dir',
      '/tmp/dev',
      '--cache-dir=/tmp/cache',
      '--timeout',
      '5m',
      '--only',
      'kafka',
      '--json',
    ]);
    assert.deepEqual(args.options, {
      workDir: '/tmp/dev',
      cacheDir: '/tmp/cache',
      startTimeout: '5m',
      kafka: { port: 19092, controllerPort: 19093 },
      hdfs: { rpcPort: 19000, httpPort: 19870, user: 'alice' },
    });
    assert.deepEqual(args.services, ['kafka']);
    assert.equal(args.json, true);
  });

  it('reads --wipe and gives down --timeout to the stop deadline', () => {
    const args = parseDevCommandArgs(['down', '--wipe', '--timeout=10s']);
    assert.equal(args.wipe, true);
    assert.deepEqual(args.options, { stopTimeout: '10s' });
  });

  it('reads --help with or without a subcommand', () => {
    assert.equal(parseDevCommandArgs(['--help']).help, true);
    assert.equal(parseDevCommandArgs(['--help']).subcommand, undefined);
    assert.equal(parseDevCommandArgs(['status', '-h']).subcommand, 'status');
    assert.equal(parseDevCommandArgs(['down', '--help', '--kafka-port', '1']).help, true);
  });

  it('rejects unknown subcommands and flags, saying what is accepted', () => {
    assert.throws(() => parseDevCommandArgs(['start']), /unknown subcommand "dev start"; use one of: up, down, status/);
    assert.throws(() => parseDevCommandArgs(['up', '--kafka']), /unknown flag --kafka/);
    assert.throws(() => parseDevCommandArgs(['up', 'down']), /unexpected argument "down"/);
  });

  it('rejects flags another subcommand owns', () => {
    assert.throws(() => parseDevCommandArgs(['status', '--wipe']), /"dev status" does not take --wipe/);
    assert.throws(() => parseDevCommandArgs(['down', '--kafka-port', '1']), /"dev down" does not take --kafka-port/);
  });

  it('rejects a missing or unreadable value', () => {
    assert.throws(() => parseDevCommandArgs(['up', '--kafka-port']), /--kafka-port needs a value/);
    assert.throws(() => parseDevCommandArgs(['up', '--kafka-port', '--json']), /--kafka-port needs a value/);
    assert.throws(() => parseDevCommandArgs(['up', '--kafka-port=abc']), /--kafka-port abc: not a port/);
    assert.throws(() => parseDevCommandArgs(['up', '--only', 'zookeeper']), /unknown service zookeeper/);
  });
});
