/**
 * `npm run example:iot`: IoT sensor readings through Kafka into Avro files on HDFS, then a batch job over the files.
 *
 * 1. Gets Kafka and HDFS (a running `millrace dev up`, MILLRACE_KAFKA_BROKERS / MILLRACE_WEBHDFS_URL, or starts the
 *    dev services for the run).
 * 2. Produces IOT_COUNT (default 40 000) deterministic readings of 20 sensors to a fresh topic (IOT_PARTITIONS, default 1).
 * 3. Streaming job: KafkaSource (bounded: ends at the end offsets seen at start) → keyBy device → one-minute
 *    tumbling averages → FileSink, Avro (deflate), under /millrace/examples/iot/<run>/minute-averages/dt=…/hour=…,
 *    exactly once with checkpoints on HDFS.
 * 4. Batch job: FileSource over those files → hourly maxima per device, printed, and checked against a plain loop
 *    over the same readings (exit code 1 on a difference).
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { defineJob, sinks, WatermarkStrategy } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { KafkaSource, createTopics } from '@millrace/kafka';
import { WebHdfsFileSystem, avroFormat, avroInput, eventTimeBuckets, fileSink, fileSource, walkFiles } from '@millrace/hdfs';
import { useDevServices } from '@millrace/devservices';
import { expected, hourlyMaxima, minuteAverages, minuteAverageSchema, reading, sortMaxima, type HourlyMax, type MinuteAverage, type Reading } from './pipeline.ts';

const COUNT = Number(process.env.IOT_COUNT ?? 40_000);
// Four partitions, each its own split with its own watermark (the Kafka source names the partitions it owns, so one
// not fetched yet holds the watermark back).
const PARTITIONS = Number(process.env.IOT_PARTITIONS ?? 4);
const BASE = '/millrace/examples/iot';
const KEEP_RUNS = 3;
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const run = `run-${stamp}-${randomBytes(2).toString('hex')}`;
const topic = `iot-readings-${run}`;
const out = `${BASE}/${run}/minute-averages`;
const log = (m: string) => console.log(`iot: ${m}`);
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

log('getting Kafka and HDFS (dev services)…');
await using services = await useDevServices();
const brokers = [...services.kafka!.brokers];
const hdfs = services.hdfs!;
const fs = new WebHdfsFileSystem({ url: hdfs.webhdfsUrl, user: hdfs.user });

try {
  // Earlier runs of this example: keep the last few, so the files of the previous run can still be looked at.
  const runs = (await fs.list(BASE)).filter((n) => n.startsWith('run-')).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - (KEEP_RUNS - 1)))) await fs.delete(`${BASE}/${old}`);

  // 1. Readings to Kafka, keyed by device.
  await createTopics({ brokers }, [{ topic, partitions: PARTITIONS }]);
  const kafka = new Kafka({ clientId: 'iot-example', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < COUNT; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, COUNT - i) }, (_, k) => reading(i + k));
    await producer.send({ topic, acks: -1, messages: batch.map((r) => ({ key: r.device, value: JSON.stringify(r) })) });
  }
  await producer.disconnect();
  log(`produced ${COUNT} readings of 20 sensors to '${topic}' (${PARTITIONS} partition(s)) on ${brokers.join(',')}`);

  // 2. The streaming job, bounded so that it ends: Kafka → one-minute averages → Avro files on HDFS by hour.
  const streaming = defineJob('iot-minute-averages', (env) => {
    const readings = env.fromSource(KafkaSource.json<Reading>({ topics: [topic], groupId: `iot-${run}`, startFrom: 'earliest', bounded: true }), {
      uid: 'readings', watermarks: WatermarkStrategy.boundedOutOfOrderness<Reading>('5s').withTimestamp((r) => r.ts).withIdleness('30s'),
    });
    minuteAverages(readings).sinkTo(fileSink<MinuteAverage>({
      fs, path: out, format: avroFormat<MinuteAverage>(minuteAverageSchema),
      buckets: eventTimeBuckets<MinuteAverage>({ timestamp: (m) => m.minute }), // dt=2026-11-01/hour=08
      rolling: { maxBytes: 16 << 20 },
    }), { uid: 'minute-averages-files' });
  }, { checkpointInterval: '500ms' });
  let t = performance.now();
  const s = await runJob(streaming, { checkpoints: { fs, dir: `${BASE}/${run}/checkpoints` }, workers: 0 }).done;
  log(`streaming job '${s.jobName}' ${s.status}: ${s.recordsRead} readings in ${((performance.now() - t) / 1000).toFixed(2)} s, ${s.checkpoints} checkpoint(s)`);

  const files = await walkFiles(fs, out);
  const hours = new Set(files.map((f) => f.slice(out.length + 1, f.lastIndexOf('/'))));
  log(`${files.length} Avro part file(s) in ${hours.size} hour partition(s) under webhdfs ${hdfs.webhdfsUrl}, i.e. ${hdfs.fsUri}${out}:`);
  for (const f of files) log(`  ${f.slice(out.length + 1)}  (${(await fs.status(f))!.length} bytes)`);

  // 3. The batch job: the same files, read back as a bounded source, hourly maxima per device.
  const collected = sinks.collect<HourlyMax>();
  const batch = defineJob('iot-hourly-maxima', (env) => {
    const averages = env.fromSource(fileSource<MinuteAverage>({ fs, paths: `${out}/dt=*/hour=*/*.avro`, format: avroInput<MinuteAverage>(), progress: false }), {
      uid: 'minute-averages', watermarks: WatermarkStrategy.monotonous<MinuteAverage>().withTimestamp((m) => m.minute),
    });
    hourlyMaxima(averages).sinkTo(collected, { uid: 'maxima' });
  });
  t = performance.now();
  const b = await runJob(batch, { workers: 0 }).done;
  log(`batch job '${b.jobName}' ${b.status}: ${b.recordsRead} minute averages read from HDFS in ${((performance.now() - t) / 1000).toFixed(2)} s`);

  const maxima = sortMaxima(collected.values());
  const byHour = new Map<number, HourlyMax[]>();
  for (const m of maxima) byHour.set(m.hour, [...(byHour.get(m.hour) ?? []), m]);
  console.log('\nhourly maxima of the one-minute average temperature (°C):');
  for (const [hour, ms] of byHour) {
    const top = [...ms].sort((a, b) => b.max - a.max)[0]!;
    console.log(`  ${new Date(hour).toISOString().slice(0, 13)}h  ${ms.map((m) => `${m.device.slice(-2)}:${m.max.toFixed(2)}`).join(' ')}  (hottest ${top.device} ${top.max.toFixed(2)})`);
  }

  const want = expected(COUNT);
  const same = JSON.stringify(maxima) === JSON.stringify(want.maxima) && b.recordsRead === want.averages.length;
  console.log(`\ncheck against a plain loop over the same ${COUNT} readings: ${want.averages.length} minute averages, ${want.maxima.length} hourly maxima — ${same ? 'identical' : 'DIFFERENT'}`);

  const first = files[0] ?? `${out}/…`;
  console.log(`
Look at the files:
  curl -s '${hdfs.webhdfsUrl}/webhdfs/v1${out}?op=LISTSTATUS&user.name=${hdfs.user}'
  curl -sL '${hdfs.webhdfsUrl}/webhdfs/v1${first}?op=OPEN&user.name=${hdfs.user}' -o minute-averages.avro
  java -jar avro-tools-1.12.1.jar tojson minute-averages.avro | head     # and: getschema minute-averages.avro
Hadoop's own shell on the dev HDFS (part-*: in-progress and pending part files start with a dot):
  npx millrace dev hdfs -ls -R ${out}
  npx millrace dev hdfs -text '${out}/*/*/part-*.avro' | head
Checkpoints of the streaming job: ${BASE}/${run}/checkpoints; the last ${KEEP_RUNS} runs are kept under ${BASE}.`);
  if (!same) process.exitCode = 1;
} finally {
  fs.close();
}
