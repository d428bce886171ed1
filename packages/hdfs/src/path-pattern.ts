/** A comparison on a Hive-style partition column, e.g. `dt>=2026-11-01` or `device=sensor-7`. */
export interface PartitionFilter {
  readonly column: string;
  readonly op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  readonly value: string;
}

/** Parses `dt>=2026-11-01`-style filters; throws naming the filter that does not parse. */
export function parsePartitionFilter(text: string): PartitionFilter {
  const m = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|<|>)\s*(.+?)\s*$/.exec(text);
  if (!m) throw new Error(`partition filter '${text}' does not parse: write <column><op><value> with op one of = != < <= > >=, e.g. dt>=2026-11-01`);
  return { column: m[1]!, op: m[2] as PartitionFilter['op'], value: m[3]! };
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
    if (!pattern.startsWith('/')) throw new Error(`path pattern '${pattern}' must be absolute`);
    const segs = pattern.split('/').slice(1);
    let k = 0;
    while (k < segs.length - 1 && !/[*?{[]/.test(segs[k]!)) k++;
    this.root = `/${segs.slice(0, k).join('/')}`.replace(/\/$/, '') || '/';
    this.segs = segs.slice(k);
    const last = this.segs.length - 1;
    const body = this.segs.map((s, i) => (s === '**' ? (i === last ? '(?:[^/]+/)*[^/]+' : '(?:[^/]+/)*') : `${segmentRegex(s)}${i === last ? '' : '/'}`)).join('');
    this.full = new RegExp(`^${body}$`);
    if (!/[*?{[]/.test(pattern)) this.full = new RegExp(`^${segmentRegex(this.segs.join('/'))}$`);
  }
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
