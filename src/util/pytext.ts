/**
 * Python string semantics that sacrebleu's definitions rely on: str.split() and str.strip() use
 * Python's whitespace set (which includes \x1c-\x1f and \x85 but not U+FEFF, unlike JS \s), and
 * strings index by code point, not by UTF-16 unit.
 */

const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_RUN = new RegExp(`[${WS}]+`, "g");
const WS_TRAIL = new RegExp(`[${WS}]+$`);

/** Python's s.split(): runs of whitespace separate, no empty tokens. */
export function pySplit(s: string): string[] {
  const out = s.split(WS_RUN);
  if (out.length > 0 && out[0] === "") out.shift();
  if (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
}

/** Python's s.rstrip(). */
export function pyRstrip(s: string): string {
  return s.replace(WS_TRAIL, "");
}

/** Removes every Python-whitespace character (''.join(s.split())). */
export function removeWhitespace(s: string): string {
  return s.replace(WS_RUN, "");
}

/** The code points of s (Python's list(s)). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}
