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

/**
 * Hive-style buckets by a field: `<name>=<value>`, e.g. `device=sensor-7`. The value is URI-encoded, so any value
 * makes exactly one directory level: `a/b` becomes `device=a%2Fb` (partition filters and `partitionsOf`
 * decode it back). A record without the field (`undefined` or `null`) goes to Hive's null partition,
 * `device=__HIVE_DEFAULT_PARTITION__`, which Hive and Spark read as null.
 */
export function fieldBuckets<T>(name: string, get: (value: T) => string | number | boolean = (v) => (v as Record<string, string>)[name]!): BucketAssigner<T> {
  return (value) => {
    const v = get(value) as unknown;
    return `${name}=${v === undefined || v === null ? HIVE_NULL_PARTITION : encodeURIComponent(String(v))}`;
  };
}

/** The directory name Hive gives a partition whose value is null. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Checks a bucket an assigner returned: relative, `/`-separated directory names, none empty, `.` or `..`, so that
 * every bucket is a directory below the sink's path. Throws naming the bucket and what is wrong.
 */
export function checkBucket(bucket: string): void {
  if (bucket === '') return;
  const segments = bucket.split('/');
  const bad = bucket.startsWith('/') ? 'it starts with \'/\' (buckets are relative to the sink\'s path)'
    : segments.includes('') ? 'it has an empty directory name (\'//\' or a trailing \'/\')'
    : segments.some((s) => s === '.' || s === '..') ? 'it has a \'.\' or \'..\' directory, which would leave or alias the sink\'s path'
    : undefined;
  if (bad) {
    throw new Error(`bucket '${bucket}' is not a directory below the sink's path: ${bad}. A value used as a bucket should be encoded, as fieldBuckets does (encodeURIComponent): 'a/b' becomes 'a%2Fb'`);
  }
}
