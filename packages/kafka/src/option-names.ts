import { KafkaConnectorError } from './errors.js';
import type { KafkaConnectionOptions } from './connection.js';
import type { DeadLetterSinkOptions, KafkaSinkOptions } from './kafka-sink-options.js';
import type { KafkaSourceOptions } from './kafka-source-options.js';

// Every option name, checked against the option types by the compiler: adding an option to a type without listing
// it here fails the build, so a correctly spelled option is never refused.
const CONNECTION = {
  brokers: true, clientId: true, ssl: true, sasl: true, connectionTimeoutMs: true, retry: true, clientLogLevel: true, client: true,
} as const satisfies Record<keyof KafkaConnectionOptions, true>;

const SOURCE = {
  ...CONNECTION,
  topics: true, topicPattern: true, groupId: true, startFrom: true, bounded: true, timestamp: true, onDecodeError: true,
  deadLetterTopic: true, readCommitted: true, sessionTimeoutMs: true, partitionDiscoveryIntervalMs: true,
  maxBufferedRecordsPerPartition: true, fetchMaxWait: true, fetchMaxBytesPerPartition: true, keepOrigins: true, log: true,
} as const satisfies Record<keyof KafkaSourceOptions<unknown>, true>;

const SINK = {
  ...CONNECTION,
  topic: true, key: true, partitioner: true, headers: true, timestamp: true, deliveryGuarantee: true,
  transactionalIdPrefix: true, maxInFlightSends: true, linger: true, batchMaxRecords: true, batchMaxBytes: true, log: true,
} as const satisfies Record<keyof KafkaSinkOptions<unknown>, true>;

const DEAD_LETTER_SINK = {
  ...CONNECTION, topic: true, deliveryGuarantee: true, transactionalIdPrefix: true,
} as const satisfies Record<keyof DeadLetterSinkOptions, true>;

/** Names other connectors use for the same thing, so the error can point at ours. */
const ALIASES: Readonly<Record<string, string>> = {
  topic: 'topics', 'auto.offset.reset': 'startFrom', autoOffsetReset: 'startFrom', fromBeginning: "startFrom: 'earliest'",
  'group.id': 'groupId', group: 'groupId', 'bootstrap.servers': 'brokers', bootstrapServers: 'brokers',
  'isolation.level': 'readCommitted', isolationLevel: 'readCommitted', 'transactional.id': 'transactionalIdPrefix',
  transactionalId: 'transactionalIdPrefix', guarantee: 'deliveryGuarantee', topics: 'topic', 'linger.ms': 'linger',
};

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function suggest(name: string, known: readonly string[]): string | undefined {
  const alias = ALIASES[name];
  if (alias && known.includes(alias.split(':')[0]!)) return alias;
  const lower = name.toLowerCase();
  const extended = lower.length >= 4 ? known.find((k) => k.toLowerCase().startsWith(lower)) : undefined;
  if (extended) return extended;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function check(what: 'KafkaSource' | 'KafkaSink', opts: object, known: Readonly<Record<string, true>>): void {
  if (opts === null || typeof opts !== 'object') {
    throw new KafkaConnectorError('config', `${what}: options are required, e.g. ${what === 'KafkaSource' ? "{ topics: ['transactions'], groupId: 'fraud' }" : "{ topic: 'card-sums' }"}; got ${String(opts)}`);
  }
  const names = Object.keys(known);
  const wrong = Object.keys(opts).filter((k) => !Object.hasOwn(known, k));
  if (wrong.length === 0) return;
  const parts = wrong.map((k) => {
    const s = suggest(k, names);
    return s ? `'${k}' (did you mean ${s}?)` : `'${k}'`;
  });
  throw new KafkaConnectorError('config', `${what}: unknown option${wrong.length > 1 ? 's' : ''} ${parts.join(', ')}. Its options are: ${names.join(', ')}.`);
}

/** Fails on option names a {@link KafkaSource} does not have (a misspelled option would otherwise be ignored). */
export function checkSourceOptionNames(opts: object): void {
  check('KafkaSource', opts, SOURCE);
}

/** Fails on option names a {@link KafkaSink} does not have. */
export function checkSinkOptionNames(opts: object): void {
  check('KafkaSink', opts, SINK);
}

/** Fails on option names `KafkaSink.deadLetters` does not take (it has no key, headers or serdes of its own). */
export function checkDeadLetterSinkOptionNames(opts: object): void {
  check('KafkaSink', opts, DEAD_LETTER_SINK);
}
