import avro from 'avsc';

const { LogicalType } = avro.types;

/** `timestamp-millis` on a `long`, as a JavaScript `Date`. */
export class TimestampMillisType extends LogicalType {
  protected override _fromValue(val: number): Date { return new Date(val); }
  protected override _toValue(date: unknown): number | undefined {
    if (date instanceof Date) return date.getTime();
    return typeof date === 'number' ? date : undefined;
  }
  protected override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    if (avro.Type.isType(type, 'long', 'int', 'logical:timestamp-millis')) return (x) => this._fromValue(x as number);
    return undefined;
  }
}

/**
 * `decimal` on `bytes` or `fixed`, as a `string` holding the exact decimal (e.g. `'12.30'` at scale 2): no precision
 * is lost, unlike a JavaScript number. Writing accepts strings, numbers and bigints (the unscaled value).
 */
export class DecimalType extends LogicalType {
  private readonly scale: number;
  private readonly precision: number;
  private readonly fixedSize: number | undefined;
  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const s = schema as { scale?: number; precision?: number; size?: number; type: string };
    this.scale = s.scale ?? 0;
    this.precision = s.precision ?? 0;
    if (!Number.isInteger(this.precision) || this.precision <= 0) throw new Error(`decimal needs a positive integer precision, got ${String(s.precision)}`);
    this.fixedSize = s.type === 'fixed' ? s.size : undefined;
  }
  protected override _export(schema: avro.Schema): void {
    Object.assign(schema as object, { precision: this.precision, scale: this.scale });
  }
  protected override _fromValue(buf: Buffer): string {
    let n = 0n;
    for (const b of buf) n = (n << 8n) | BigInt(b);
    if (buf.length > 0 && buf[0]! & 0x80) n -= 1n << BigInt(buf.length * 8);
    const neg = n < 0n;
    let digits = (neg ? -n : n).toString().padStart(this.scale + 1, '0');
    if (this.scale > 0) digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    return neg ? `-${digits}` : digits;
  }
  protected override _toValue(val: unknown): Buffer | undefined {
    let unscaled: bigint;
    if (typeof val === 'bigint') unscaled = val;
    else if (typeof val === 'number' || typeof val === 'string') {
      const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(typeof val === 'number' ? val.toFixed(this.scale) : val.trim());
      if (!m) return undefined;
      const frac = (m[3] ?? '').padEnd(this.scale, '0');
      if (frac.length > this.scale && /[1-9]/.test(frac.slice(this.scale))) return undefined; // would lose digits
      unscaled = BigInt(`${m[1]}${m[2] || '0'}${frac.slice(0, this.scale)}`);
    } else return undefined;
    if ((unscaled < 0n ? -unscaled : unscaled).toString().length > this.precision) return undefined;
    const bytes: number[] = [];
    let x = unscaled;
    do { bytes.unshift(Number(x & 0xffn)); x >>= 8n; } while (!(x === 0n && !(bytes[0]! & 0x80)) && !(x === -1n && bytes[0]! & 0x80));
    if (this.fixedSize !== undefined) {
      if (bytes.length > this.fixedSize) return undefined;
      while (bytes.length < this.fixedSize) bytes.unshift(unscaled < 0n ? 0xff : 0);
    }
    return Buffer.from(bytes);
  }
  protected override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    const t = type as unknown as { scale?: number; precision?: number };
    if (type instanceof DecimalType && t.scale === this.scale) return (x) => x;
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `uuid` on a `string`, checked to be a UUID when written. */
export class UuidType extends LogicalType {
  protected override _fromValue(val: string): string { return val; }
  protected override _toValue(val: unknown): string | undefined { return typeof val === 'string' && UUID.test(val) ? val : undefined; }
  protected override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    return avro.Type.isType(type, 'string', 'logical:uuid') ? (x) => x : undefined;
  }
}

/** The logical types Millrace implements, for `Type.forSchema(schema, { logicalTypes })`. */
export const LOGICAL_TYPES = {
  'timestamp-millis': TimestampMillisType,
  decimal: DecimalType,
  uuid: UuidType,
} as const;
