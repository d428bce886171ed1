import { HdfsError } from './errors.js';

/**
 * Fails when a connector's options, or one of its required ones, are missing: what plain JavaScript (and `millrace
 * run`, which does not type-check) would otherwise turn into a TypeError deep inside.
 */
export function requireOptions(what: string, opts: unknown, required: readonly string[], example: string): void {
  if (opts === null || typeof opts !== 'object') {
    throw new HdfsError('invalid', `${what}: options are required, e.g. ${what}(${example}); got ${String(opts)}`, '/');
  }
  const missing = required.filter((k) => (opts as Record<string, unknown>)[k] === undefined);
  if (missing.length > 0) {
    throw new HdfsError('invalid', `${what}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required, e.g. ${what}(${example})`, '/');
  }
}
