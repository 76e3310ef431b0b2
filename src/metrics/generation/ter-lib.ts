/**
 * Translation edit rate with shifts (Snover et al. 2006), following sacrebleu's lib_ter, its
 * near-exact reimplementation of Tercom: greedy block shifts (at most 10 words, at most 50
 * positions away, 1000 shift candidates per sentence) that reduce a beam-restricted (width 25)
 * Levenshtein distance, then the edit distance of the shifted hypothesis plus one per shift.
 */

const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;
const INF = 0x3fffffff;

// Edit operations; the trace is for rewriting the hypothesis into the reference.
const OP_NOP = 0,
  OP_SUB = 1,
  OP_INS = 2,
  OP_DEL = 3,
  OP_UNDEF = 4;

interface CacheNode {
  next: Map<number, CacheNode>;
  cost: Int32Array;
  op: Uint8Array;
}

/** Levenshtein distance to a fixed reference, caching matrix rows by hypothesis prefix. */
class BeamEditDistance {
  private readonly ref: Int32Array;
  private readonly root = new Map<number, CacheNode>();
  private cacheSize = 0;
  private readonly initialCost: Int32Array;
  private readonly initialOp: Uint8Array;

  constructor(ref: Int32Array) {
    this.ref = ref;
    const m = ref.length + 1;
    this.initialCost = Int32Array.from({ length: m }, (_, j) => j);
    this.initialOp = new Uint8Array(m).fill(OP_INS);
  }

  /** Returns [distance, trace]. */
  compute(hyp: Int32Array): [number, Uint8Array] {
    const nRef = this.ref.length,
      nHyp = hyp.length,
      m = nRef + 1;
    const costs: Int32Array[] = [this.initialCost];
    const ops: Uint8Array[] = [this.initialOp];
    let node: Map<number, CacheNode> = this.root;
    let start = 0;
    for (; start < nHyp; start++) {
      const hit = node.get(hyp[start]!);
      if (!hit) break;
      costs.push(hit.cost);
      ops.push(hit.op);
      node = hit.next;
    }
    const lengthRatio = nHyp ? nRef / nHyp : 1;
    // With very unequal lengths the band could miss the previous row entirely: widen it.
    const beam = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH;
    for (let i = start + 1; i <= nHyp; i++) {
      const cost = new Int32Array(m).fill(INF),
        op = new Uint8Array(m).fill(OP_UNDEF);
      const pc = costs[i - 1]!;
      const diag = Math.floor(i * lengthRatio);
      const minJ = Math.max(0, diag - beam);
      const maxJ = i === nHyp ? m : Math.min(m, diag + beam);
      const w = hyp[i - 1]!;
      for (let j = minJ; j < maxJ; j++) {
        if (j === 0) {
          cost[0] = pc[0]! + 1;
          op[0] = OP_DEL;
          continue;
        }
        // Preference on ties: match/substitution, then deletion, then insertion.
        const same = w === this.ref[j - 1];
        let best = cost[j]!,
          bestOp = op[j]!;
        const c1 = pc[j - 1]! + (same ? 0 : 1);
        if (best > c1) {
          best = c1;
          bestOp = same ? OP_NOP : OP_SUB;
        }
        const c2 = pc[j]! + 1;
        if (best > c2) {
          best = c2;
          bestOp = OP_DEL;
        }
        const c3 = cost[j - 1]! + 1;
        if (best > c3) {
          best = c3;
          bestOp = OP_INS;
        }
        cost[j] = best;
        op[j] = bestOp;
      }
      costs.push(cost);
      ops.push(op);
    }
    // Cache the new rows under their hypothesis prefix.
    if (this.cacheSize < MAX_CACHE_SIZE) {
      let nd = this.root;
      for (let i = 0; i < nHyp; i++) {
        let hit = nd.get(hyp[i]!);
        if (!hit) {
          hit = { next: new Map(), cost: costs[i + 1]!, op: ops[i + 1]! };
          nd.set(hyp[i]!, hit);
          this.cacheSize++;
        }
        nd = hit.next;
      }
    }
    const trace: number[] = [];
    let i = nHyp,
      j = nRef;
    while (i > 0 || j > 0) {
      const o = ops[i]![j]!;
      trace.push(o);
      if (o === OP_SUB || o === OP_NOP) {
        i--;
        j--;
      } else if (o === OP_INS) j--;
      else if (o === OP_DEL) i--;
      else throw new Error(`TER: undefined edit operation at (${i}, ${j})`);
    }
    trace.reverse();
    return [costs[nHyp]![nRef]!, Uint8Array.from(trace)];
  }
}

/** Alignment of reference positions to hypothesis positions, from the flipped trace. */
function traceToAlignment(
  trace: Uint8Array,
  nRef: number,
): { align: Int32Array; refErr: Uint8Array; hypErr: number[] } {
  let posHyp = -1,
    posRef = -1;
  const hypErr: number[] = [];
  const refErr: number[] = [];
  const align = new Int32Array(nRef).fill(-2);
  for (const raw of trace) {
    // Flip: rewriting the reference into the hypothesis swaps insertions and deletions.
    const o = raw === OP_INS ? OP_DEL : raw === OP_DEL ? OP_INS : raw;
    if (o === OP_NOP || o === OP_SUB) {
      posHyp++;
      posRef++;
      align[posRef] = posHyp;
      hypErr.push(o === OP_SUB ? 1 : 0);
      refErr.push(o === OP_SUB ? 1 : 0);
    } else if (o === OP_INS) {
      posHyp++;
      hypErr.push(1);
    } else {
      posRef++;
      align[posRef] = posHyp;
      refErr.push(1);
    }
  }
  return { align, refErr: Uint8Array.from(refErr), hypErr };
}

function performShift(words: Int32Array, start: number, length: number, target: number): Int32Array {
  const out = new Int32Array(words.length);
  let k = 0;
  const put = (from: number, to: number) => {
    for (let i = Math.max(0, from); i < Math.min(to, words.length); i++) out[k++] = words[i]!;
  };
  if (target < start) {
    put(0, target);
    put(start, start + length);
    put(target, start);
    put(start + length, words.length);
  } else if (target > start + length) {
    put(0, start);
    put(start + length, target);
    put(start, start + length);
    put(target, words.length);
  } else {
    put(0, start);
    put(start + length, length + target);
    put(start, start + length);
    put(length + target, words.length);
  }
  return out;
}

function sum(a: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < Math.min(to, a.length); i++) s += a[i]!;
  return s;
}

/** One greedy shift step: [gain, shifted words, candidates checked so far]. */
function shift(h: Int32Array, r: Int32Array, ed: BeamEditDistance, checked: number): [number, Int32Array, number] {
  const [preScore, trace] = ed.compute(h);
  const { align, refErr, hypErr } = traceToAlignment(trace, r.length);
  let best: { gain: number; length: number; negStart: number; negIdx: number; words: Int32Array } | undefined;
  outer: for (let startH = 0; startH < h.length; startH++) {
    for (let startR = 0; startR < r.length; startR++) {
      if (Math.abs(startR - startH) > MAX_SHIFT_DIST) continue;
      let length = 0;
      while (h[startH + length] === r[startR + length] && length < MAX_SHIFT_SIZE) {
        length++;
        // Candidate block h[startH, startH+length) == r[startR, startR+length).
        const consider = (): void => {
          if (sum(hypErr, startH, startH + length) === 0) return;
          if (sum(refErr, startR, startR + length) === 0) return;
          if (startH <= align[startR]! && align[startR]! < startH + length) return;
          let prevIdx = -1;
          for (let offset = -1; offset < length; offset++) {
            let idx: number;
            if (startR + offset === -1) idx = 0;
            else if (startR + offset < r.length) idx = align[startR + offset]! + 1;
            else break;
            if (idx === prevIdx) continue;
            prevIdx = idx;
            const shifted = performShift(h, startH, length, idx);
            const gain = preScore - ed.compute(shifted)[0];
            checked++;
            // Ranking as Tercom: biggest gain, then longest block, earliest start, earliest target.
            if (
              !best ||
              gain > best.gain ||
              (gain === best.gain &&
                (length > best.length ||
                  (length === best.length &&
                    (-startH > best.negStart || (-startH === best.negStart && -idx > best.negIdx)))))
            ) {
              best = { gain, length, negStart: -startH, negIdx: -idx, words: shifted };
            }
          }
        };
        consider();
        if (checked >= MAX_SHIFT_CANDIDATES) break outer;
        if (h.length === startH + length || r.length === startR + length) break;
      }
    }
  }
  return best ? [best.gain, best.words, checked] : [0, h, checked];
}

/** [number of edits, reference length] for tokenized hypothesis and reference. */
export function translationEditRate(hypWords: readonly string[], refWords: readonly string[]): [number, number] {
  if (refWords.length === 0) return [hypWords.length, 0];
  // Words become integer ids so that comparisons and cache keys are cheap.
  const ids = new Map<string, number>();
  const enc = (ws: readonly string[]) =>
    Int32Array.from(ws, (w) => {
      let id = ids.get(w);
      if (id === undefined) ids.set(w, (id = ids.size));
      return id;
    });
  const r = enc(refWords);
  let h: Int32Array = enc(hypWords);
  const ed = new BeamEditDistance(r);
  let shifts = 0,
    checked = 0;
  for (;;) {
    const [delta, shifted, c] = shift(h, r, ed, checked);
    checked = c;
    if (checked >= MAX_SHIFT_CANDIDATES) break;
    if (delta <= 0) break;
    shifts++;
    h = shifted;
  }
  const [dist] = ed.compute(h);
  return [shifts + dist, refWords.length];
}
