/** Multi-objective helpers: Pareto dominance, non-dominated sorting and crowding distance (as in NSGA-II). */
import { lossSign, type Direction, type Trial } from "./types.js";

/** Values turned into losses (smaller is better in every coordinate). */
export function losses(values: readonly number[], directions: readonly Direction[]): number[] {
  return values.map((v, i) => lossSign(directions[i]!) * v);
}

/** Whether loss vector a dominates b: no worse anywhere, better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/** Fronts of indices: front 0 is non-dominated, front 1 is non-dominated once front 0 is removed, ... */
export function nondominatedFronts(points: readonly (readonly number[])[]): number[][] {
  const n = points.length;
  const dominatedBy = new Array<number>(n).fill(0);
  const dominating: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i]!, points[j]!)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(points[j]!, points[i]!)) {
        dominating[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let current = [...Array(n).keys()].filter((i) => dominatedBy[i] === 0);
  while (current.length) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** Crowding distance of each point of one front (boundary points get Infinity). */
export function crowdingDistance(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const dist = new Array<number>(n).fill(0);
  if (n <= 2) return dist.fill(Infinity);
  const m = points[0]!.length;
  for (let k = 0; k < m; k++) {
    const order = [...Array(n).keys()].sort((a, b) => points[a]![k]! - points[b]![k]!);
    const lo = points[order[0]!]![k]!,
      hi = points[order[n - 1]!]![k]!;
    dist[order[0]!] = Infinity;
    dist[order[n - 1]!] = Infinity;
    if (hi === lo) continue;
    for (let i = 1; i < n - 1; i++)
      dist[order[i]!]! += (points[order[i + 1]!]![k]! - points[order[i - 1]!]![k]!) / (hi - lo);
  }
  return dist;
}

/**
 * Complete trials ordered best first: by front, then by crowding distance (spread-out points first), then by the
 * first objective. With one objective this is simply the order by loss.
 */
export function rankTrials(trials: readonly Trial[], directions: readonly Direction[]): Trial[] {
  const done = trials.filter((t) => t.state === "complete" && t.values);
  const pts = done.map((t) => losses(t.values!, directions));
  if (directions.length === 1)
    return done
      .map((t, i) => ({ t, l: pts[i]![0]! }))
      .sort((a, b) => a.l - b.l || a.t.number - b.t.number)
      .map((x) => x.t);
  const out: Trial[] = [];
  for (const front of nondominatedFronts(pts)) {
    const cd = crowdingDistance(front.map((i) => pts[i]!));
    const order = front
      .map((i, j) => ({ i, cd: cd[j]! }))
      .sort((a, b) => b.cd - a.cd || pts[a.i]![0]! - pts[b.i]![0]! || a.i - b.i);
    for (const { i } of order) out.push(done[i]!);
  }
  return out;
}

/** The non-dominated complete trials, ordered by the first objective. */
export function paretoFront(trials: readonly Trial[], directions: readonly Direction[]): Trial[] {
  const done = trials.filter((t) => t.state === "complete" && t.values);
  if (done.length === 0) return [];
  const pts = done.map((t) => losses(t.values!, directions));
  return nondominatedFronts(pts)[0]!
    .map((i) => done[i]!)
    .sort((a, b) => lossSign(directions[0]!) * (a.values![0]! - b.values![0]!) || a.number - b.number);
}
