import { HdfsError } from './errors.js';

/** A comparison on a Hive-style partition column, e.g. `dt>=2026-11-01` or `device=sensor-7`. */
export interface PartitionFilter {
  readonly column: string;
  readonly op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  readonly value: string;
}

const FORMS = 'write <column><op><value> with op one of = != < <= > >=, e.g. dt>=2026-11-01 or device=sensor-7';
const OPS: readonly string[] = ['=', '!=', '<', '<=', '>', '>='];

/**
 * Parses `dt>=2026-11-01`-style filters. Throws naming the filter when it does not parse, and when its value starts
 * with an operator character (`dt=>2026-11-01` would otherwise compare `dt` with the string `>2026-11-01`).
 */
export function parsePartitionFilter(text: string): PartitionFilter {
  const m = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|<|>)\s*(.+?)\s*$/.exec(text);
  if (!m) throw new Error(`partition filter '${text}' does not parse: ${FORMS}`);
  return checkPartitionFilter({ column: m[1]!, op: m[2] as PartitionFilter['op'], value: m[3]! }, text);
}

/** Checks a filter given as an object as `parsePartitionFilter` checks text; returns it. */
export function checkPartitionFilter(f: PartitionFilter, text = partitionFilterText(f)): PartitionFilter {
  if (typeof f.column !== 'string' || !/^[A-Za-z_][\w.]*$/.test(f.column)) throw new Error(`partition filter '${text}' has no valid column name: ${FORMS}`);
  if (!OPS.includes(f.op)) throw new Error(`partition filter '${text}' has the operator '${String(f.op)}': ${FORMS}`);
  if (typeof f.value !== 'string' || f.value === '') throw new Error(`partition filter '${text}' has no value: ${FORMS}`);
  if (/^[=<>!]/.test(f.value)) {
    // `=>` and `=<` are `>=` and `<=` written the other way round.
    const swapped = `${f.value[0]}${f.op}`;
    const meant = OPS.includes(swapped) ? ` (did you mean '${f.column}${swapped}${f.value.slice(1)}'?)` : '';
    throw new Error(`partition filter '${text}' does not parse: its value '${f.value}' starts with an operator character${meant}; ${FORMS}`);
  }
  return f;
}

/** A filter as text, e.g. `dt>=2026-11-01`. */
export function partitionFilterText(f: PartitionFilter): string {
  return `${f.column}${f.op}${f.value}`;
}

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a partition value passes a filter (numbers compare as numbers, anything else as strings). */
export function partitionMatches(f: PartitionFilter, value: string): boolean {
  const c = compare(value, f.value);
  switch (f.op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}

/** A URI-encoded partition value; as it is when it is not valid URI encoding (a `%` written by another tool). */
function decodeValue(v: string): string {
  try { return decodeURIComponent(v); } catch { return v; }
}

/** The `column=value` segments of a path, values URI-decoded (`device=a%2Fb` is `a/b`). */
export function partitionsOf(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const seg of path.split('/')) {
    const i = seg.indexOf('=');
    if (i > 0) out[seg.slice(0, i)] = decodeValue(seg.slice(i + 1));
  }
  return out;
}

function patternColumns(pattern: string): string[] | undefined {
  if (!/[*?{[]/.test(pattern)) return undefined;
  const segs = pattern.split('/').slice(1);
  const columns: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const named = /^([A-Za-z_][\w.]*)=/.exec(seg);
    if (seg.includes('**') || (i < segs.length - 1 && /[*?{[]/.test(seg) && !named)) return undefined;
    if (named) columns.push(named[1]!);
  }
  return columns;
}

function segmentRegex(seg: string): string {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = seg.indexOf('}', i);
      if (end < 0) { re += '\\{'; continue; }
      re += `(?:${seg.slice(i + 1, end).split(',').map((a) => a.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')).join('|')})`;
      i = end;
    } else if (c === '[') {
      const end = seg.indexOf(']', i);
      if (end < 0) { re += '\\['; continue; }
      re += `[${seg.slice(i + 1, end).replace(/^!/, '^')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return re;
}

/**
 * A path glob: `*`, `?`, `{a,b}`, `[0-9]` within a segment, `**` for any number of directories. Splits into the
 * static directory to start listing from and matchers for files and for directories worth descending into.
 */
export class PathPattern {
  /** The longest leading directory without glob characters. */
  readonly root: string;
  private readonly full: RegExp;
  private readonly segs: string[];
  constructor(readonly pattern: string) {
    if (!pattern.startsWith('/')) throw new HdfsError('invalid', `path pattern '${pattern}' must be absolute (start with '/')`, pattern);
    const segs = pattern.split('/').slice(1);
    let k = 0;
    while (k < segs.length - 1 && !/[*?{[]/.test(segs[k]!)) k++;
    this.root = `/${segs.slice(0, k).join('/')}`.replace(/\/$/, '') || '/';
    this.segs = segs.slice(k);
    const last = this.segs.length - 1;
    const body = this.segs.map((s, i) => (s === '**' ? (i === last ? '(?:[^/]+/)*[^/]+' : '(?:[^/]+/)*') : `${segmentRegex(s)}${i === last ? '' : '/'}`)).join('');
    this.full = new RegExp(`^${body}$`);
    if (!/[*?{[]/.test(pattern)) this.full = new RegExp(`^${segmentRegex(this.segs.join('/'))}$`);
    this.columns = patternColumns(pattern);
  }
  /**
   * The partition columns every matching path has (`dt`, `hour` of `/data/dt=*\/hour=*\/*.avro`), or `undefined`
   * when matching paths may have others: a directory (no glob), `**`, or a wildcard directory segment that is not
   * `column=…`.
   */
  readonly columns: readonly string[] | undefined;
  private rel(path: string): string { return this.root === '/' ? path.slice(1) : path.slice(this.root.length + 1); }
  /** Whether a file matches. */
  matches(path: string): boolean { return this.full.test(this.rel(path)); }
  /** Whether a directory may hold matching files. */
  mayContain(dir: string): boolean {
    const parts = this.rel(dir).split('/');
    for (let i = 0; i < parts.length; i++) {
      const s = this.segs[i];
      if (s === undefined) return false;
      if (s === '**') return true;
      if (!new RegExp(`^${segmentRegex(s)}$`).test(parts[i]!)) return false;
    }
    return parts.length < this.segs.length;
  }
}
