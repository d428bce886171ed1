import { DevServicesError } from './errors.js';

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'5s'`, `'3m'`, `'1h'`. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Converts a {@link Duration} to milliseconds.
 *
 * @param value - a non-negative number of milliseconds, or a number followed by `ms`, `s`, `m` or `h`
 * @param what - names the setting in the error message
 * @throws DevServicesError `bad-config` when the value cannot be read
 */
export function parseDuration(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
    if (match) return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  }
  throw new DevServicesError('bad-config', `${what}: cannot read "${String(value)}" as a duration; write milliseconds or a number with ms, s, m or h, e.g. "180s"`);
}
