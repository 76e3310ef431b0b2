/** Reading the JSON-lines files a run appends to (metrics.jsonl, trials.jsonl), tolerant of a crash mid-append. */

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The values of a JSON-lines text with their 1-based line numbers. Blank lines are skipped; so is an unparsable
 * last line, quietly (a torn write is what a crash mid-append leaves); any other unparsable line goes to `bad`.
 */
export function* jsonLines(text: string, bad: (line: number) => void): Generator<{ value: unknown; line: number }> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i !== lines.length - 1) bad(i + 1);
      continue;
    }
    yield { value, line: i + 1 };
  }
}
