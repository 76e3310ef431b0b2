/**
 * numpy's default argsort (kind="quicksort", numpy 1.24: an unstable introsort — median-of-3 quicksort, insertion
 * sort below 16 elements, heapsort past the depth limit), ported line by line from npysort/quicksort.cpp and
 * heapsort.cpp. scikit-learn's max_features keeps the terms argsort puts first, so equal frequencies at the cut
 * are broken exactly as this order breaks them; a stable sort would keep different terms.
 */

const SMALL_QUICKSORT = 15;

export function npArgsort(v: ArrayLike<number>): Int32Array {
  const num = v.length;
  const tosort = new Int32Array(num);
  for (let i = 0; i < num; i++) tosort[i] = i;
  if (num < 2) return tosort;
  const less = (a: number, b: number): boolean => a < b || (b !== b && a === a);
  const swap = (i: number, j: number): void => {
    const t = tosort[i]!;
    tosort[i] = tosort[j]!;
    tosort[j] = t;
  };
  let pl = 0;
  let pr = num - 1;
  const stack: number[] = [];
  const depthStack: number[] = [];
  let cdepth = msb(num) * 2;

  for (;;) {
    if (cdepth < 0) {
      aheapsort(v, tosort, pl, pr - pl + 1, less);
    } else {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        if (less(v[tosort[pr]!]!, v[tosort[pm]!]!)) swap(pr, pm);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        const vp = v[tosort[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (less(v[tosort[pi]!]!, vp));
          do --pj;
          while (less(vp, v[tosort[pj]!]!));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        const pk = pr - 1;
        swap(pi, pk);
        // push the larger partition, loop on the smaller
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depthStack.push(--cdepth);
      }
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = tosort[pi]!;
        const vpv = v[vi]!;
        let pj = pi;
        let pk = pi - 1;
        while (pj > pl && less(vpv, v[tosort[pk]!]!)) tosort[pj--] = tosort[pk--]!;
        tosort[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return tosort;
}

function msb(n: number): number {
  let d = 0;
  while ((n >>>= 1) > 0) d++;
  return d;
}

/** numpy's aheapsort on tosort[start .. start+n), 1-based heap indexing as in the C source. */
function aheapsort(
  v: ArrayLike<number>,
  tosort: Int32Array,
  start: number,
  n: number,
  less: (a: number, b: number) => boolean,
): void {
  const a = (i: number): number => tosort[start + i - 1]!;
  const set = (i: number, x: number): void => {
    tosort[start + i - 1] = x;
  };
  /** Sifts `tmp` down from heap slot i of the heap a(1..m). */
  const siftDown = (tmp: number, i: number, m: number): void => {
    for (let j = i << 1; j <= m; ) {
      if (j < m && less(v[a(j)]!, v[a(j + 1)]!)) j += 1;
      if (less(v[tmp]!, v[a(j)]!)) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  };
  for (let l = n >> 1; l > 0; --l) siftDown(a(l), l, n);
  for (; n > 1; ) {
    const tmp = a(n);
    set(n, a(1));
    n -= 1;
    siftDown(tmp, 1, n);
  }
}
