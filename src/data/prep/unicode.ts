/**
 * Unicode helpers that behave like Python's, so text features match scikit-learn's exactly:
 * Python's notion of whitespace (str.isspace / re \s), code-point (not UTF-16) string order, and
 * accent stripping that drops characters with a non-zero canonical combining class (unicodedata.combining).
 */

/** Python's str.isspace() set: JS \s lacks \x1c-\x1f and \x85 and adds \ufeff. */
export const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]{2,}`, "gu");
const PY_SPACE_SPLIT = new RegExp(`[${PY_SPACE}]+`, "u");

/** Python's re.sub(r"\s\s+", " ", s): runs of two or more whitespace characters become one space (a lone tab stays). */
export function collapseSpaceRuns(s: string): string {
  return s.replace(PY_SPACE_RUN, " ");
}

/** Python's s.split() with no argument. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPACE_SPLIT).filter((w) => w !== "");
}

/** Orders strings by code point, as Python's sorted() does (JS's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i),
      y = b.charCodeAt(i);
    if (x === y) continue;
    // a surrogate starts an astral code point, which is above every BMP character (even U+E000..U+FFFF)
    const xs = x >= 0xd800 && x <= 0xdfff,
      ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

const combiningCache = new Map<number, boolean>();

/** The only characters with a canonical decomposition and a non-zero combining class (Unicode 3.0 onwards, stable). */
const DECOMPOSABLE_COMBINING = new Set([0x340, 0x341, 0x343, 0x344]);

/**
 * Whether a code point has a non-zero canonical combining class. JS exposes no ccc, but canonical reordering
 * reveals it: a mark is reordered before U+0334 (ccc 1) iff its ccc > 1, and after U+0316 (ccc 220) iff 0 < ccc < 220.
 * Agrees with Python's unicodedata.combining on every code point both Unicode versions assign.
 */
export function isCombining(cp: number): boolean {
  if (cp < 0x300 || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  let r = combiningCache.get(cp);
  if (r === undefined) {
    const c = String.fromCodePoint(cp);
    if (c.normalize("NFD") !== c) r = DECOMPOSABLE_COMBINING.has(cp);
    else {
      const before = "a" + c + "\u0334";
      const after = "a\u0316" + c;
      r = before.normalize("NFD") !== before || after.normalize("NFD") !== after;
    }
    combiningCache.set(cp, r);
  }
  return r;
}

const ASCII = /^[\x00-\x7f]*$/;

/** scikit-learn's strip_accents_unicode: NFKD, then drop combining characters. */
export function stripAccentsUnicode(s: string): string {
  if (ASCII.test(s)) return s;
  let out = "";
  for (const ch of s.normalize("NFKD")) if (!isCombining(ch.codePointAt(0)!)) out += ch;
  return out;
}

/** scikit-learn's strip_accents_ascii: NFKD, then drop everything outside ASCII. */
export function stripAccentsAscii(s: string): string {
  return s.normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
}
