import { Kafka, logLevel } from 'kafkajs';

/** What a successful metadata probe saw. */
export interface KafkaProbeResult {
  /** Broker ids in the cluster metadata. */
  readonly brokerIds: readonly number[];
  /** Active controller id. */
  readonly controller: number | null;
  /** Cluster id. */
  readonly clusterId: string;
}

/**
 * One metadata request through the kafkajs admin client, with short timeouts and no retries: resolves with the
 * cluster metadata when a broker answers, rejects otherwise. Use it as the readiness probe of a broker.
 *
 * @param brokers - bootstrap addresses, e.g. `["127.0.0.1:9092"]`
 * @param timeoutMs - connection and request timeout, 3 s by default
 */
export async function probeKafka(brokers: readonly string[], timeoutMs = 3_000): Promise<KafkaProbeResult> {
  const kafka = new Kafka({
    clientId: 'millrace-devservices-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return { brokerIds: cluster.brokers.map((b) => b.nodeId), controller: cluster.controller, clusterId: cluster.clusterId };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
