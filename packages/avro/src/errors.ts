/** What kind of Avro problem an {@link AvroError} reports. */
export type AvroErrorCode = 'schema-mismatch' | 'invalid-value' | 'corrupt-file' | 'registry' | 'unknown-codec';

/**
 * An Avro problem, with what went wrong and where: the field (`field`), or the file and byte offset (`path`,
 * `offset`) for corrupt container files.
 */
export class AvroError extends Error {
  override readonly name = 'AvroError';
  constructor(
    readonly code: AvroErrorCode,
    message: string,
    readonly details: { readonly field?: string; readonly path?: string; readonly offset?: number; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
  /** The offending field's path (e.g. `reading.value`), when known. */
  get field(): string | undefined { return this.details.field; }
  /** The file the problem is in, when known. */
  get path(): string | undefined { return this.details.path; }
  /** The byte offset in that file, when known. */
  get offset(): number | undefined { return this.details.offset; }
}
