/**
 * Reprocessing equals streaming (docs/design.md §5), on the real Kafka and HDFS of the dev services, no mocks:
 *
 * 1. IoT readings (examples/iot/pipeline.ts: 20 devices, up to 3 s out of order) go to a Kafka topic of 4
 *    partitions, keyed by device.
 * 2. An archive job copies the topic into Avro files on HDFS, exactly once with checkpoints on HDFS (the Kafka → HDFS
 *    half of the IoT example), bucketed by device, then by event hour: `device=sensor-07/dt=…/hour=09`. Read in path
 *    order, each device's files run through all hours before the next device's begin, so a file source whose
 *    watermark advanced as it read would make every later device late; the results show it does not.
 * 3. The same job logic, keyed one-minute tumbling event-time averages (`minuteAverages`), runs twice: streaming
 *    from Kafka (bounded at the end offsets), and reprocessing the Avro files (bounded, split at sync markers).
 *
 * Both runs must give the same minute averages, and both must equal a plain loop over the readings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readContainer } from '@millrace/avro';
import { defineJob, sinks, WatermarkStrategy, type DataStream, type Source, type StreamEnvironment } from '@millrace/core';
import { runJob, type JobResult } from '@millrace/runtime';
import { KafkaSource } from '@millrace/kafka';
import { WebHdfsFileSystem, avroFormat, avroInput, eventTimeBuckets, fieldBuckets, fileSink, fileSource, walkFiles } from '@millrace/hdfs';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';
import { expected, minuteAverages, reading, readingSchema, sortAverages, type MinuteAverage, type Reading } from '../../examples/iot/pipeline.ts';
import { produce, topics, unique } from '../kafka/kafka-kit.ts';

const COUNT = 12_000; // 600 readings per device, 10 s apart: 100 minutes of event time from 08:00
const PARTITIONS = 4;

describe('reprocessing from HDFS equals streaming from Kafka', { timeout: 600_000 }, () => {
  let services: DevServicesLease;
  let brokers: string[];
  let fs: WebHdfsFileSystem;
  const topic = unique('reprocessing-readings');
  const base = `/millrace-test/${unique('reprocessing')}`;

  before(async () => {
    services = await useDevServices();
    brokers = [...services.kafka!.brokers];
    fs = new WebHdfsFileSystem({ url: services.hdfs!.webhdfsUrl, user: services.hdfs!.user });
    await topics(brokers, [topic, PARTITIONS]);
    await produce(brokers, topic, Array.from({ length: COUNT }, (_, i) => reading(i)), (r) => r.device);
  });
  after(async () => {
    await fs?.delete(base).catch(() => {});
    fs?.close();
    await services?.close();
  });

  /** The readings of a topic, from the earliest offset to the end offsets seen at start. */
  const fromKafka = (group: string): Source<Reading> => KafkaSource.json<Reading>({ brokers, topics: [topic], groupId: unique(group), startFrom: 'earliest', bounded: true });
  /** The job logic both runs share: event time from the reading, 5 s out of orderness, then minute averages. */
  const averages = (env: StreamEnvironment, source: Source<Reading>): DataStream<MinuteAverage> => minuteAverages(env.fromSource(source, {
    uid: 'readings', watermarks: WatermarkStrategy.boundedOutOfOrderness<Reading>('5s').withTimestamp((r) => r.ts).withIdleness('30s'),
  }));
  /** Decoded Avro records are avsc class instances; results are compared as plain objects. */
  const plain = (xs: readonly MinuteAverage[]): MinuteAverage[] => sortAverages(xs.map((x) => ({ device: x.device, minute: x.minute, avg: x.avg, count: x.count })));

  it('gives the same one-minute averages from the Kafka topic and from its Avro archive on HDFS', async () => {
    // The archive: Kafka → Avro files by device and event hour, exactly once (checkpoints on HDFS), two subtasks.
    const archive = `${base}/readings`;
    const byDevice = fieldBuckets<Reading>('device');
    const byHour = eventTimeBuckets<Reading>({ timestamp: (r) => r.ts });
    const archived = await runJob(defineJob('reprocessing-archive', (env) => {
      env.fromSource(fromKafka('archive'), { uid: 'readings' })
        .sinkTo(fileSink<Reading>({ fs, path: archive, format: avroFormat<Reading>(readingSchema), buckets: (r, ts) => `${byDevice(r, ts)}/${byHour(r, ts)}`, maxOpenFiles: 48, log: () => {} }), { uid: 'archive' });
    }, { parallelism: 2, checkpointInterval: '500ms' }), { checkpoints: { fs, dir: `${base}/checkpoints` }, workers: 0 }).done;
    assert.equal(archived.recordsRead, COUNT);
    const files = await walkFiles(fs, archive);
    const buckets = new Set(files.map((f) => f.slice(archive.length + 1, f.lastIndexOf('/'))));
    assert.equal(buckets.size, 20 * 2, `a directory per device and hour: ${[...buckets].slice(0, 3).join(', ')}, …`);
    assert.ok(buckets.has('device=sensor-07/dt=2026-11-01/hour=09'));
    let inFiles = 0;
    for (const f of files) inFiles += readContainer(await fs.readFile(f), { path: f }).records.length;
    assert.equal(inFiles, COUNT, 'the archive holds every reading once');

    const late = (rows: JobResult['metrics']) => rows.reduce((n, m) => n + m.lateRecordsDropped + m.lateRecordsToSideOutput, 0);

    // Streaming: the job over the topic.
    const streamed = sinks.collect<MinuteAverage>();
    const s = await runJob(defineJob('reprocessing-streaming', (env) => {
      averages(env, fromKafka('streaming')).sinkTo(streamed, { uid: 'averages' });
    }, { parallelism: 2 }), { workers: 0 }).done;
    assert.equal(s.recordsRead, COUNT);

    // Reprocessing: the same job over the archive, files cut into splits at sync markers.
    const reprocessed = sinks.collect<MinuteAverage>();
    const r = await runJob(defineJob('reprocessing-batch', (env) => {
      averages(env, fileSource<Reading>({ fs, paths: `${archive}/device=*/dt=*/hour=*/*.avro`, format: avroInput<Reading>(), splitBytes: 4 * 1024, progress: false }))
        .sinkTo(reprocessed, { uid: 'averages' });
    }, { parallelism: 2 }), { workers: 0 }).done;
    assert.equal(r.recordsRead, COUNT);
    assert.equal(late(r.metrics), 0, 'no reading was late in the reprocessing run');

    const want = expected(COUNT).averages;
    assert.equal(want.length, 20 * 100, 'a minute average per device and minute');
    assert.equal(late(s.metrics), 0, 'no reading was late in the streaming run');
    assert.deepEqual(plain(streamed.values()), want, 'streaming from Kafka equals the plain loop');
    assert.deepEqual(plain(reprocessed.values()), plain(streamed.values()), 'reprocessing the archive equals streaming');
  });
});
