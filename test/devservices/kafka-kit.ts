/**
 * Helpers shared by the dev-services Kafka tests: waiting on a probe, and creating topics until every partition has
 * a leader. Plain kafkajs on purpose (these tests check the broker, not our connector).
 */
import { waitFor } from '../probe.ts';
import type { Admin } from 'kafkajs';

/** Polls `probe` until it holds (a readiness probe); fails after `timeoutMs`. */
export async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(probe, what, timeoutMs, 100);
}

/**
 * Creates topics and waits until the broker's metadata shows a leader for every partition. kafkajs's own
 * `waitForLeaders` gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a moment after the
 * controller has created the topic; here that answer just means "not yet".
 */
export async function createTopics(admin: Admin, topics: Array<{ topic: string; numPartitions: number; configEntries?: Array<{ name: string; value: string }> }>): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  await eventually(async () => {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      return topics.every((t) => {
        const partitions = metadata.topics.find((m) => m.name === t.topic)?.partitions ?? [];
        return partitions.length === t.numPartitions && partitions.every((p) => p.leader >= 0);
      });
    } catch {
      return false;
    }
  }, `leaders for ${topics.map((t) => t.topic).join(', ')}`);
}
