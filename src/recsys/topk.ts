/**
 * Exact top-k of a score row: a linear scan keeping the k best in order (higher score first, the lower item id
 * first on a tie), skipping the excluded items (an ascending list) and, when given, every item outside the
 * candidates. O(n·log k)-ish for small k; the caller produces the score rows in blocks.
 */
export interface TopK {
  items: Int32Array;
  scores: Float32Array;
}

export function topKRow(
  scores: ArrayLike<number>,
  offset: number,
  n: number,
  k: number,
  exclude: Int32Array | null = null,
  candidates: Int32Array | null = null,
): TopK {
  const items = new Int32Array(k).fill(-1);
  const best = new Float32Array(k).fill(-Infinity);
  let filled = 0;
  let kth = -Infinity; // the k-th best so far once k are kept
  let e = 0;
  const m = candidates ? candidates.length : n;
  for (let c = 0; c < m; c++) {
    const i = candidates ? candidates[c]! : c;
    const s = scores[offset + i]!;
    if (filled === k && !(s > kth)) continue;
    if (Number.isNaN(s)) continue;
    if (exclude) {
      while (e < exclude.length && exclude[e]! < i) e++;
      if (e < exclude.length && exclude[e] === i) continue;
    }
    let p = filled < k ? filled++ : k - 1;
    while (p > 0 && best[p - 1]! < s) {
      best[p] = best[p - 1]!;
      items[p] = items[p - 1]!;
      p--;
    }
    best[p] = s;
    items[p] = i;
    if (filled === k) kth = best[k - 1]!;
  }
  return { items: items.subarray(0, filled), scores: best.subarray(0, filled) };
}
