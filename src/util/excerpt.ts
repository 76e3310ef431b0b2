/**
 * Quoting input in messages: a field or a line from a user's file is shown up to ~200 characters, then an ellipsis
 * and its full length, so a 10 MB header line or a binary file read as text never floods the terminal or a log.
 */

/** The longest piece of input a message shows, in characters. */
export const EXCERPT_CHARS = 200;

/** `s` when short; else its first `max` characters, "…" and the full length ("… (10,485,760 characters)"). */
export function excerpt(s: string, max = EXCERPT_CHARS): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // never split a surrogate pair
  return `${s.slice(0, end)}… (${s.length.toLocaleString("en-US")} characters)`;
}

/** `s` as a JSON string literal (quotes, escapes), cut like excerpt: `"abc…" (10,485,760 characters)`. */
export function quoted(s: string, max = EXCERPT_CHARS): string {
  if (s.length <= max) return JSON.stringify(s);
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${JSON.stringify(`${s.slice(0, end)}…`)} (${s.length.toLocaleString("en-US")} characters)`;
}
