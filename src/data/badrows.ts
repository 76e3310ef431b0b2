/**
 * The --on-bad-row policy in one place: under "fail" the first bad row throws a DataError naming file and line;
 * under "skip" it is recorded (every one, not a sample) so the caller can print a summary and save the full list.
 */
import { DataError } from "../util/errors.js";
import { excerpt } from "../util/excerpt.js";
import type { BadRow, BadRowPolicy } from "./types.js";

export class BadRowLog {
  constructor(
    readonly policy: BadRowPolicy,
    /** Where skipped rows go (e.g. a ReadReport's `skipped`). */
    readonly rows: BadRow[] = [],
    private readonly hint = "fix the row, or pass --on-bad-row skip to skip bad rows and get a summary of what was skipped",
  ) {
    if (policy !== "skip" && policy !== "fail")
      throw new DataError(`--on-bad-row must be "skip" or "fail", got "${String(policy)}"`);
  }

  reject(file: string, line: number, reason: string, field?: string): void {
    // a field is a column name from the file: quoted in at most ~200 characters, as every quoted value is
    const name = field !== undefined ? excerpt(field) : undefined;
    if (this.policy === "fail") throw new DataError(reason, { file, line, field: name }, this.hint);
    this.rows.push({ file, line, reason: name !== undefined ? `field "${name}": ${reason}` : reason });
  }
}

/** Counts skipped rows by reason, for a one-screen summary ("3 × empty text, 1 × missing field ..."). */
export function summarizeBadRows(rows: readonly BadRow[]): { total: number; byReason: Record<string, number> } {
  const byReason: Record<string, number> = {};
  for (const r of rows) {
    // group by the reason's shape, not its values: quoted values after a colon become "…", numbers N
    const key = r.reason
      .replace(/(: .*?)"[^"]*"/g, '$1"…"')
      .replace(/\d+/g, "N")
      .trim();
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  return { total: rows.length, byReason };
}
