/**
 * The IoT example's records and steps, shared by the example (main.ts) and the integration tests
 * (test/hdfs/reprocessing.test.ts): deterministic sensor readings, one-minute averages per device, hourly maxima.
 */
import { agg, windows, type AggregateFunction, type DataStream } from '@millrace/core';

/** One sensor reading; `ts` is its event time (epoch milliseconds). */
export interface Reading { device: string; ts: number; temperature: number }
/** The average temperature of one device over one minute of event time. */
export interface MinuteAverage { device: string; minute: number; avg: number; count: number }
/** The highest one-minute average of a device in an hour. */
export interface HourlyMax { device: string; hour: number; max: number }

export const DEVICES = 20;
/** 2026-11-01T08:00Z: the first reading's minute. */
export const T0 = Date.UTC(2026, 10, 1, 8);

export const readingSchema = {
  type: 'record', name: 'Reading', namespace: 'dev.millrace.examples.iot',
  fields: [{ name: 'device', type: 'string' }, { name: 'ts', type: 'long' }, { name: 'temperature', type: 'double' }],
} as const;

export const minuteAverageSchema = {
  type: 'record', name: 'MinuteAverage', namespace: 'dev.millrace.examples.iot',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'minute', type: 'long', doc: 'start of the minute, epoch milliseconds UTC' },
    { name: 'avg', type: 'double' },
    { name: 'count', type: 'int' },
  ],
} as const;

/**
 * Reading `i`: device `sensor-(i mod 20)`, one reading per device every 10 s of event time (so 40 000 readings
 * cover 5.5 hours), up to 3 s out of order, a temperature from a daily curve plus per-device offset and noise. The
 * values are multiples of 1/16, so sums are exact and averages do not depend on the order of addition.
 */
export function reading(i: number): Reading {
  const d = i % DEVICES;
  const step = Math.floor(i / DEVICES);
  const jitter = ((i * 7919) % 31) * 100; // 0–3 s late, deterministic
  const ts = T0 + step * 10_000 + jitter;
  const curve = Math.round(16 * 6 * Math.sin((2 * Math.PI * (ts - T0)) / 86_400_000)) / 16;
  const noise = (((i * 2654435761) >>> 0) % 33) / 16 - 1;
  return { device: `sensor-${String(d).padStart(2, '0')}`, ts, temperature: 18 + d / 4 + curve + noise };
}

/** Sum and count of temperatures: the accumulator of {@link minuteAverages}. */
const sumCount: AggregateFunction<Reading, { sum: number; count: number }, { sum: number; count: number }> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (r, acc) => { acc.sum += r.temperature; acc.count += 1; return acc; },
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
  getResult: (acc) => acc,
};

/** keyBy device → one-minute tumbling event-time windows → average temperature (and how many readings). */
export function minuteAverages(readings: DataStream<Reading>, uid = 'minute-averages'): DataStream<MinuteAverage> {
  return readings
    .keyBy((r) => r.device)
    .window(windows.tumbling('1m'))
    .aggregate(sumCount, (device, w, acc): MinuteAverage => ({ device, minute: w.start, avg: acc.sum / acc.count, count: acc.count }), { uid });
}

/** keyBy device → one-hour tumbling windows over minute averages → the highest average. */
export function hourlyMaxima(averages: DataStream<MinuteAverage>, uid = 'hourly-maxima'): DataStream<HourlyMax> {
  return averages
    .keyBy((m) => m.device)
    .window(windows.tumbling('1h'))
    .aggregate(agg.max((m: MinuteAverage) => m.avg), (device, w, max): HourlyMax => ({ device, hour: w.start, max }), { uid });
}

/** The same computations as plain loops, to check the jobs against. */
export function expected(count: number): { averages: MinuteAverage[]; maxima: HourlyMax[] } {
  const sums = new Map<string, { device: string; minute: number; sum: number; count: number }>();
  for (let i = 0; i < count; i++) {
    const r = reading(i);
    const minute = r.ts - (r.ts % 60_000);
    const k = `${r.device}@${minute}`;
    const s = sums.get(k) ?? { device: r.device, minute, sum: 0, count: 0 };
    s.sum += r.temperature; s.count++;
    sums.set(k, s);
  }
  const averages = [...sums.values()].map((s) => ({ device: s.device, minute: s.minute, avg: s.sum / s.count, count: s.count }));
  const maxes = new Map<string, HourlyMax>();
  for (const a of averages) {
    const hour = a.minute - (a.minute % 3_600_000);
    const k = `${a.device}@${hour}`;
    const m = maxes.get(k);
    if (!m || a.avg > m.max) maxes.set(k, { device: a.device, hour, max: a.avg });
  }
  return { averages: sortAverages(averages), maxima: sortMaxima([...maxes.values()]) };
}

export const sortAverages = (xs: readonly MinuteAverage[]): MinuteAverage[] => [...xs].sort((a, b) => a.minute - b.minute || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
export const sortMaxima = (xs: readonly HourlyMax[]): HourlyMax[] => [...xs].sort((a, b) => a.hour - b.hour || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
