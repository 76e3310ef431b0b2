/**
 * L-BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4 and 3.5/3.6): two-loop recursion over the last
 * m steps, strong-Wolfe line search with cubic interpolation. Stops like scipy's L-BFGS-B, which scikit-learn
 * uses: when the largest gradient component is below gtol, or the relative decrease of f falls below ftol.
 */

export interface LbfgsOptions {
  /** History length (default 10, scipy's). */
  m?: number;
  maxIter?: number;
  /** Stop when max |g_i| <= gtol. */
  gtol?: number;
  /** Stop when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol (default 64 ε, scikit-learn's). */
  ftol?: number;
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** max |g_i| at the end. */
  gradMax: number;
  reason: "gtol" | "ftol" | "maxIter" | "lineSearch";
}

/** Computes f(x), writing the gradient into g. */
export type Objective = (x: Float64Array, g: Float64Array) => number;

export function lbfgs(fg: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.m ?? 10;
  const maxIter = opts.maxIter ?? 1000;
  const gtol = opts.gtol ?? 1e-6;
  const ftol = opts.ftol ?? 64 * Number.EPSILON;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let iter = 0;
  let reason: LbfgsResult["reason"] = "maxIter";

  for (; iter < maxIter; iter++) {
    if (maxAbs(g) <= gtol) {
      reason = "gtol";
      break;
    }
    // d = -H g by the two-loop recursion
    d.set(g);
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(S[i]!, d);
      axpy(-alpha[i]!, Y[i]!, d);
    }
    if (S.length > 0) {
      const last = S.length - 1;
      scale(d, dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!));
    } else {
      scale(d, 1 / Math.max(1, Math.sqrt(dot(g, g))));
    }
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i]! * dot(Y[i]!, d);
      axpy(alpha[i]! - beta, S[i]!, d);
    }
    scale(d, -1);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = -dot(g, g);
    }
    const ls = lineSearch(fg, x, f, g, d, slope, xNew, gNew, opts.maxLineSearch ?? 40);
    evaluations += ls.evaluations;
    if (!ls.ok) {
      reason = "lineSearch";
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const fOld = f;
    x.set(xNew);
    g.set(gNew);
    f = ls.f;
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(y, y)) * Math.sqrt(dot(s, s))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      iter++;
      reason = "ftol";
      break;
    }
  }
  const gradMax = maxAbs(g);
  return { x, f, iterations: iter, evaluations, converged: reason === "gtol" || reason === "ftol", gradMax, reason };
}

/** Strong Wolfe line search along d (c1 = 1e-4, c2 = 0.9); on success xOut/gOut hold the new point. */
function lineSearch(
  fg: Objective,
  x: Float64Array,
  f0: number,
  _g0: Float64Array,
  d: Float64Array,
  slope0: number,
  xOut: Float64Array,
  gOut: Float64Array,
  maxEval: number,
): { ok: boolean; f: number; evaluations: number } {
  const c1 = 1e-4,
    c2 = 0.9;
  let evaluations = 0;
  const evalAt = (t: number): { f: number; slope: number } => {
    for (let i = 0; i < x.length; i++) xOut[i] = x[i]! + t * d[i]!;
    evaluations++;
    const f = fg(xOut, gOut);
    return { f, slope: dot(gOut, d) };
  };
  let tPrev = 0,
    fPrev = f0,
    sPrev = slope0;
  let t = 1;
  for (;;) {
    const { f, slope } = evalAt(t);
    if (!Number.isFinite(f) || f > f0 + c1 * t * slope0 || (evaluations > 1 && f >= fPrev)) {
      return zoom(tPrev, fPrev, sPrev, t, f, slope);
    }
    if (Math.abs(slope) <= -c2 * slope0) return { ok: true, f, evaluations };
    if (slope >= 0) return zoom(t, f, slope, tPrev, fPrev, sPrev);
    if (evaluations >= maxEval) return { ok: false, f, evaluations };
    [tPrev, fPrev, sPrev] = [t, f, slope];
    t *= 2;
  }

  function zoom(
    lo: number,
    fLo: number,
    sLo: number,
    hi: number,
    fHi: number,
    sHi: number,
  ): { ok: boolean; f: number; evaluations: number } {
    for (;;) {
      if (evaluations >= maxEval || Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) {
        // accept the best point found if it decreased f at all
        if (lo > 0 && fLo < f0) {
          const r = evalAt(lo);
          return { ok: true, f: r.f, evaluations };
        }
        return { ok: false, f: f0, evaluations };
      }
      let t = Number.isFinite(fHi) ? cubicMin(lo, fLo, sLo, hi, fHi, sHi) : NaN;
      const a = Math.min(lo, hi),
        b = Math.max(lo, hi);
      if (!(t > a + 0.1 * (b - a) && t < b - 0.1 * (b - a))) t = (lo + hi) / 2;
      const { f, slope } = evalAt(t);
      if (!Number.isFinite(f) || f > f0 + c1 * t * slope0 || f >= fLo) {
        [hi, fHi, sHi] = [t, f, slope];
      } else {
        if (Math.abs(slope) <= -c2 * slope0) return { ok: true, f, evaluations };
        if (slope * (hi - lo) >= 0) [hi, fHi, sHi] = [lo, fLo, sLo];
        [lo, fLo, sLo] = [t, f, slope];
      }
    }
  }
}

/** Minimizer of the cubic through (a, fa, ga) and (b, fb, gb). */
function cubicMin(a: number, fa: number, ga: number, b: number, fb: number, gb: number): number {
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - ga * gb;
  if (disc < 0) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (gb + d2 - d1)) / (gb - ga + 2 * d2);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + alpha * x[i]!;
}
function scale(x: Float64Array, s: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * s;
}
function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}
