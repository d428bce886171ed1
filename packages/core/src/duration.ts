/**
 * Durations accepted everywhere in the API: a number of milliseconds, or a string such as
 * `'250ms'`, `'5s'`, `'1m'`, `'2h'`, `'1d'`.
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Converts a {@link Duration} to milliseconds.
 * @param what names the setting in the error message, e.g. `'window size'`.
 * @throws RangeError naming the setting when the value is not a finite, non-negative duration.
 */
export function toMillis(d: Duration, what = 'duration'): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new RangeError(`${what} must be a non-negative number of milliseconds, got ${d}`);
    return d;
  }
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(d).trim());
  if (!m) throw new RangeError(`${what} must look like '250ms', '5s', '1m', '2h', '1d' or be a number of milliseconds, got '${d}'`);
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms < 0) throw new RangeError(`${what} must not be negative, got '${d}'`);
  return ms;
}
