/**
 * Chooses the directory (relative to the sink's path, `/`-separated, no leading slash) a record goes to, from the
 * record and its event timestamp (NaN when it has none).
 */
export type BucketAssigner<T> = (value: T, timestamp: number) => string;

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Hive-style buckets by event time in UTC: `dt=2026-11-01/hour=13` (`granularity: 'hour'`, the default) or
 * `dt=2026-11-01` (`'day'`). Records without a timestamp go to `dt=unknown`. `timestamp` can pick a field instead
 * of the record's event time.
 */
export function eventTimeBuckets<T>(opts: { granularity?: 'day' | 'hour'; timestamp?: (value: T) => number } = {}): BucketAssigner<T> {
  const hourly = (opts.granularity ?? 'hour') === 'hour';
  return (value, ts) => {
    const t = opts.timestamp ? opts.timestamp(value) : ts;
    if (!Number.isFinite(t)) return 'dt=unknown';
    const d = new Date(t);
    const day = `dt=${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    return hourly ? `${day}/hour=${pad(d.getUTCHours())}` : day;
  };
}

/** Hive-style buckets by a field: `<name>=<value>` (value URI-encoded), e.g. `device=sensor-7`. */
export function fieldBuckets<T>(name: string, get: (value: T) => string | number | boolean = (v) => (v as Record<string, string>)[name]!): BucketAssigner<T> {
  return (value) => `${name}=${encodeURIComponent(String(get(value)))}`;
}
