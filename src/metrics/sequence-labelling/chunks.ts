/**
 * Entity chunks from tag sequences, with conlleval's boundary rules (seqeval's default mode).
 * Tags are PREFIX-TYPE ("B-PER") or, with suffix, TYPE-PREFIX ("PER-B"); a bare "O" is outside.
 * conlleval is lenient: a chunk starts at B or S, and also at an I or E that follows O or an
 * entity of another type; it ends before B/S/O or a change of type, after E or S. So IOB1, IOB2,
 * IOE1, IOE2 and IOBES all decode, and ill-formed sequences (I without B) still yield entities.
 */
import { warn } from "../warnings.js";

/** [type, start, end], end inclusive (seqeval's get_entities). */
export type Chunk = [type: string, start: number, end: number];

/** Splits a tag into its prefix letter and entity type ("_" when the tag has no type). */
export function splitTag(tag: string, suffix: boolean): [prefix: string, type: string] {
  if (suffix) {
    const rest = tag.slice(0, -1);
    const cut = rest.lastIndexOf("-");
    return [tag.slice(-1), (cut < 0 ? rest : rest.slice(0, cut)) || "_"];
  }
  const rest = tag.slice(1);
  const cut = rest.indexOf("-");
  return [tag.slice(0, 1), (cut < 0 ? rest : rest.slice(cut + 1)) || "_"];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === "E" || prevTag === "S") return true;
  if ((prevTag === "B" || prevTag === "I") && (tag === "B" || tag === "S" || tag === "O")) return true;
  return prevTag !== "O" && prevTag !== "." && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((prevTag === "E" || prevTag === "S" || prevTag === "O") && (tag === "E" || tag === "I")) return true;
  return tag !== "O" && tag !== "." && prevType !== type;
}

const NE_PREFIX = ["B-", "I-", "E-", "S-"];
const NE_SUFFIX = ["-B", "-I", "-E", "-S"];

/**
 * Entities of one flat tag sequence, or of sentences (each followed by an implicit "O" so that no
 * entity crosses a sentence boundary; positions then count through the joined sequence).
 */
export function getEntities(
  seq: readonly string[] | readonly (readonly string[])[],
  options: { suffix?: boolean } = {},
): Chunk[] {
  const suffix = options.suffix ?? false;
  const flat: string[] = seq.some((s) => Array.isArray(s))
    ? (seq as readonly (readonly string[])[]).flatMap((s) => [...s, "O"])
    : [...(seq as readonly string[])];
  flat.push("O");
  let prevTag = "O",
    prevType = "",
    begin = 0;
  const chunks: Chunk[] = [];
  const odd = new Set<string>();
  for (let i = 0; i < flat.length; i++) {
    const chunk = flat[i]!;
    if (
      !["O", "B", "I", "E", "S"].includes(chunk) &&
      !(suffix ? NE_SUFFIX.some((s) => chunk.endsWith(s)) : NE_PREFIX.some((p) => chunk.startsWith(p)))
    ) {
      odd.add(chunk);
    }
    const [tag, type] = splitTag(chunk, suffix);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push([prevType, begin, i - 1]);
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  for (const t of odd) warn(`${t} seems not to be NE tag.`);
  return chunks;
}
