import { MillraceError } from '@millrace/core';

/** What went wrong talking to Kafka, so callers can react without parsing messages. */
export type KafkaErrorCode =
  | 'unknown-topic'
  | 'unreachable'
  | 'authorization'
  | 'authentication'
  | 'decode'
  | 'encode'
  | 'config'
  | 'timestamp'
  | 'transaction'
  | 'client';

/**
 * An error of the Kafka connector. The message says what failed, where (brokers, topic, partition, offset, step)
 * and what to do; `code` classifies it and `cause` keeps the client's own error.
 */
export class KafkaConnectorError extends MillraceError {
  override readonly name = 'KafkaConnectorError';
  constructor(readonly code: KafkaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const AUTHZ = /AUTHORIZATION_FAILED|not authorized|authorization/i;
const AUTHN = /SASL|authentication|AUTHENTICATION_FAILED/i;
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|Connection (timeout|error)|KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|broker.*not.*available/i;
const BAD_TIMESTAMP = /INVALID_TIMESTAMP|timestamp of the message is out of acceptable range/i;
const UNKNOWN_TOPIC = /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|This server does not host/i;

/**
 * Turns a client error into a {@link KafkaConnectorError} whose message names the operation and the brokers and
 * says what to do. Errors that are already connector errors pass through.
 */
export function describeKafkaError(e: unknown, what: string, brokers: readonly string[]): KafkaConnectorError {
  if (e instanceof KafkaConnectorError) return e;
  const err = e as { name?: string; message?: string; type?: string; cause?: { message?: string } } | undefined;
  const text = `${err?.name ?? ''} ${err?.type ?? ''} ${err?.message ?? String(e)} ${err?.cause?.message ?? ''}`;
  const list = brokers.join(',');
  const original = err?.message ?? String(e);
  if (AUTHZ.test(text)) {
    return new KafkaConnectorError('authorization', `${what}: the brokers ${list} refused the operation (authorization failed: ${original}). Grant this principal the needed ACLs (Read/Describe on the topic and group for a source; Write/Describe on the topic, and Write on the transactional id for an exactly-once sink) or use other credentials.`, { cause: e });
  }
  if (AUTHN.test(text)) {
    return new KafkaConnectorError('authentication', `${what}: authentication with the brokers ${list} failed (${original}). Check the sasl options (mechanism, username, password) and ssl.`, { cause: e });
  }
  if (BAD_TIMESTAMP.test(text)) {
    return new KafkaConnectorError('timestamp', `${what}: the brokers ${list} refused a record's timestamp (${original}). A sink stamps records with their event time by default (a window's result with the window's end); brokers refuse times too far in the future or past (topic settings message.timestamp.after.max.ms, default 1 hour ahead, and message.timestamp.before.max.ms). Fix the event times, raise those topic limits, or give the sink \`timestamp: 'send'\`.`, { cause: e });
  }
  if (UNKNOWN_TOPIC.test(text)) {
    return new KafkaConnectorError('unknown-topic', `${what}: a topic is unknown to the brokers ${list} (${original}). Create the topic first or check its name.`, { cause: e });
  }
  if (UNREACHABLE.test(text)) {
    return new KafkaConnectorError('unreachable', `${what}: could not reach the Kafka brokers ${list} after retrying with backoff (${original}). Check that they run and that \`brokers\` names them (host:port), and firewalls; for the dev services run \`npx millrace dev up\`.`, { cause: e });
  }
  return new KafkaConnectorError('client', `${what} (brokers ${list}): ${original}`, { cause: e });
}
