import type { BucketAssigner } from './buckets.js';
import type { PartFileInfo } from './file-sink.js';

/**
 * Kafka Connect HDFS sink's layout, for tools that expect it: buckets `topics/<topic>/partition=<p>` and file names
 * `<topic>+<partition>+<startOffset>+<endOffset><ext>` with offsets zero-padded to 10 digits. Spread it into the
 * {@link fileSink} options: `fileSink({ fs, path, format, ...kafkaConnectLayout({ topic, partition, offset }) })`.
 * Records must carry their Kafka partition and offset.
 */
export function kafkaConnectLayout<T>(opts: { topic: string; partition: (v: T) => number; offset: (v: T) => number }): { buckets: BucketAssigner<T>; fileName: (info: PartFileInfo<T>) => string } {
  const pad = (n: number): string => String(n).padStart(10, '0');
  return {
    buckets: (v) => `topics/${opts.topic}/partition=${opts.partition(v)}`,
    fileName: (i) => `${opts.topic}+${opts.partition(i.first)}+${pad(opts.offset(i.first))}+${pad(opts.offset(i.last))}${i.extension}`,
  };
}
