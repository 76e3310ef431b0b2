/**
 * Strict entity decoding (seqeval's mode="strict"): an entity counts only if it is well formed
 * in the declared scheme. Each scheme lists (previous prefix, current prefix, type condition)
 * patterns that start a chunk, continue it, or close it; a chunk that does not close properly
 * (e.g. B-PER I-LOC in IOB2, or I-PER with no B) is not an entity at all.
 */
import { ArgumentError } from "../../util/errors.js";

export type Scheme = "IOB1" | "IOB2" | "IOE1" | "IOE2" | "IOBES" | "BILOU";

type P = "I" | "O" | "B" | "E" | "S" | "U" | "L";
type Cond = "same" | "diff" | "any";
type Pattern = [prev: P[] | "*", cur: P[] | "*", cond: Cond];

interface SchemeRules {
  allowed: P[];
  start: Pattern[];
  inside: Pattern[];
  end: Pattern[];
}

const RULES: Record<Scheme, SchemeRules> = {
  IOB1: {
    allowed: ["I", "O", "B"],
    start: [
      [["O"], ["I"], "any"],
      [["I"], ["I"], "diff"],
      [["B"], ["I"], "any"],
      [["I"], ["B"], "same"],
      [["B"], ["B"], "same"],
    ],
    inside: [
      [["B"], ["I"], "same"],
      [["I"], ["I"], "same"],
    ],
    end: [
      [["I"], ["I"], "diff"],
      [["I"], ["O"], "any"],
      [["I"], ["B"], "any"],
      [["B"], ["O"], "any"],
      [["B"], ["I"], "diff"],
      [["B"], ["B"], "same"],
    ],
  },
  IOE1: {
    allowed: ["I", "O", "E"],
    start: [
      [["O"], ["I"], "any"],
      [["I"], ["I"], "diff"],
      [["E"], ["I"], "any"],
      [["E"], ["E"], "same"],
    ],
    inside: [
      [["I"], ["I"], "same"],
      [["I"], ["E"], "same"],
    ],
    end: [
      [["I"], ["I"], "diff"],
      [["I"], ["O"], "any"],
      [["I"], ["E"], "diff"],
      [["E"], ["I"], "same"],
      [["E"], ["E"], "same"],
    ],
  },
  IOB2: {
    allowed: ["I", "O", "B"],
    start: [["*", ["B"], "any"]],
    inside: [
      [["B"], ["I"], "same"],
      [["I"], ["I"], "same"],
    ],
    end: [
      [["I"], ["O"], "any"],
      [["I"], ["I"], "diff"],
      [["I"], ["B"], "any"],
      [["B"], ["O"], "any"],
      [["B"], ["I"], "diff"],
      [["B"], ["B"], "any"],
    ],
  },
  IOE2: {
    allowed: ["I", "O", "E"],
    start: [
      [["O"], ["I"], "any"],
      [["O"], ["E"], "any"],
      [["E"], ["I"], "any"],
      [["E"], ["E"], "any"],
      [["I"], ["I"], "diff"],
      [["I"], ["E"], "diff"],
    ],
    inside: [
      [["I"], ["E"], "same"],
      [["I"], ["I"], "same"],
    ],
    end: [[["E"], "*", "any"]],
  },
  IOBES: {
    allowed: ["I", "O", "B", "E", "S"],
    start: [
      ["*", ["B"], "any"],
      ["*", ["S"], "any"],
    ],
    inside: [
      [["B"], ["I"], "same"],
      [["B"], ["E"], "same"],
      [["I"], ["I"], "same"],
      [["I"], ["E"], "same"],
    ],
    end: [
      [["S"], "*", "any"],
      [["E"], "*", "any"],
    ],
  },
  BILOU: {
    allowed: ["B", "I", "L", "O", "U"],
    start: [
      ["*", ["B"], "any"],
      ["*", ["U"], "any"],
    ],
    inside: [
      [["B"], ["I"], "same"],
      [["B"], ["L"], "same"],
      [["I"], ["I"], "same"],
      [["I"], ["L"], "same"],
    ],
    end: [
      [["U"], "*", "any"],
      [["L"], "*", "any"],
    ],
  },
};

export const SCHEMES = Object.keys(RULES) as Scheme[];

interface Tok {
  raw: string;
  prefix: P;
  type: string;
}

function parse(raw: string, scheme: Scheme, suffix: boolean, where: string): Tok {
  const p = (suffix ? raw.slice(-1) : raw.slice(0, 1)) as P;
  if (!RULES[scheme].allowed.includes(p)) {
    throw new ArgumentError(
      `${where}: tag "${raw}" is not valid in the ${scheme} scheme (allowed prefixes: ${RULES[scheme].allowed.join(", ")})`,
      "pick the scheme your tags use, or score in the default (conlleval) mode",
    );
  }
  const body = suffix ? raw.slice(0, -1) : raw.slice(1);
  // Python's str.strip("-"): every leading and trailing delimiter goes.
  return { raw, prefix: p, type: body.replace(/^-+|-+$/g, "") || "_" };
}

function matches(prev: Tok, cur: Tok, patterns: Pattern[]): boolean {
  for (const [pp, cp, cond] of patterns) {
    if (pp !== "*" && !pp.includes(prev.prefix)) continue;
    if (cp !== "*" && !cp.includes(cur.prefix)) continue;
    if (cond === "any" || (cond === "same") === (prev.type === cur.type)) return true;
  }
  return false;
}

/** [type, start, end) entities of one sentence under the scheme. */
export function strictEntities(
  tags: readonly string[],
  scheme: Scheme,
  options: { suffix?: boolean; where?: string } = {},
): [string, number, number][] {
  const rules = RULES[scheme];
  if (!rules) throw new ArgumentError(`unknown tagging scheme "${String(scheme)}"`, `use one of ${SCHEMES.join(", ")}`);
  const suffix = options.suffix ?? false;
  const where = options.where ?? "strict entities";
  const outside: Tok = { raw: "O", prefix: "O", type: "_" };
  const toks = [...tags.map((t) => parse(t, scheme, suffix, where)), outside];
  const out: [string, number, number][] = [];
  let prev = outside;
  let i = 0;
  while (i < toks.length) {
    const tok = toks[i]!;
    if (matches(prev, tok, rules.start)) {
      // Walk while the chunk continues, then check that it closes properly.
      let end = i + 1,
        p = tok;
      while (end < toks.length && matches(p, toks[end]!, rules.inside)) p = toks[end++]!;
      if (matches(toks[end - 1]!, toks[end]!, rules.end)) out.push([tok.type, i, end]);
      i = end;
    } else i++;
    prev = toks[i - 1]!;
  }
  return out;
}
