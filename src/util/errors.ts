/**
 * Errors graft raises on purpose. Every message names what went wrong and where;
 * `hint` (optional) says what to do about it, and the CLI prints it on its own line.
 */
export class GraftError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** An op received tensors whose shapes or dtypes it cannot combine. */
export class ShapeError extends GraftError {}

/** A caller passed an argument outside its domain (negative size, unknown option, ...). */
export class ArgumentError extends GraftError {}

/** Bad input data: names the file, line and field. */
export class DataError extends GraftError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(message: string, where: { file?: string; line?: number; field?: string } = {}, hint?: string) {
    const loc = [
      where.file,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.field !== undefined ? `field "${where.field}"` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(", ");
    super(loc ? `${loc}: ${message}` : message, hint);
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

/** A file on disk (checkpoint, config, tokenizer) is corrupt or inconsistent. */
export class FormatError extends GraftError {}

/** Formats a shape for messages: [2, 3, 4]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
