import type { KafkaClient } from './client.js';

/** SASL credentials, passed to the client as they are. */
export type KafkaSaslOptions =
  | { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'aws'; readonly authorizationIdentity: string; readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  | { readonly mechanism: 'oauthbearer'; readonly oauthBearerProvider: () => Promise<{ value: string }> };

/** TLS options (Node `tls.connect` options), or `true` for TLS with the system's CAs. */
export type KafkaSslOptions = boolean | Readonly<Record<string, unknown>>;

/** How to reach the cluster: what every source, sink and dead-letter sink takes. */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, `host:port`. Default: `MILLRACE_KAFKA_BROKERS` (comma-separated), else `127.0.0.1:9092`. */
  readonly brokers?: readonly string[];
  /** The client id prefix shown in broker logs and group descriptions. Default `millrace`. */
  readonly clientId?: string;
  readonly ssl?: KafkaSslOptions;
  readonly sasl?: KafkaSaslOptions;
  /** Connection timeout per attempt, ms. Default 3000. */
  readonly connectionTimeoutMs?: number;
  /** Retries with exponential backoff before a call fails (default 8 retries, 300 ms first, 10 s at most). */
  readonly retry?: { readonly retries?: number; readonly initialRetryTimeMs?: number; readonly maxRetryTimeMs?: number };
  /** The client's own log level. Default `'nothing'`: the connector reports what matters in its errors. */
  readonly clientLogLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
  /** Another client implementation behind the adapter (tests use an in-memory one). Default: kafkajs. */
  readonly client?: (opts: ResolvedConnection) => KafkaClient;
}

/** Connection options with defaults applied. */
export interface ResolvedConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: KafkaSslOptions | undefined;
  readonly sasl: KafkaSaslOptions | undefined;
  readonly connectionTimeoutMs: number;
  readonly retry: { readonly retries: number; readonly initialRetryTimeMs: number; readonly maxRetryTimeMs: number };
  readonly clientLogLevel: NonNullable<KafkaConnectionOptions['clientLogLevel']>;
}

/** Applies defaults (brokers from `MILLRACE_KAFKA_BROKERS`). */
export function resolveConnection(opts: KafkaConnectionOptions): ResolvedConnection {
  const env = typeof process !== 'undefined' ? process.env.MILLRACE_KAFKA_BROKERS : undefined;
  const brokers = opts.brokers ?? (env ? env.split(',').map((s) => s.trim()).filter(Boolean) : ['127.0.0.1:9092']);
  if (brokers.length === 0) throw new TypeError('Kafka connection: `brokers` is empty; name at least one broker as host:port');
  for (const b of brokers) {
    if (!/^[^:\s]+:\d+$/.test(b)) throw new TypeError(`Kafka connection: broker '${b}' is not host:port (e.g. 127.0.0.1:9092)`);
  }
  return {
    brokers,
    clientId: opts.clientId ?? 'millrace',
    ssl: opts.ssl,
    sasl: opts.sasl,
    connectionTimeoutMs: opts.connectionTimeoutMs ?? 3000,
    retry: { retries: opts.retry?.retries ?? 8, initialRetryTimeMs: opts.retry?.initialRetryTimeMs ?? 300, maxRetryTimeMs: opts.retry?.maxRetryTimeMs ?? 10_000 },
    clientLogLevel: opts.clientLogLevel ?? 'nothing',
  };
}
