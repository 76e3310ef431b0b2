/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp computes it (statistic and p-value,
 * method "auto" | "exact" | "asymp"; test/fixtures/monitor/ks.json holds scipy's answers):
 * - exact (auto's choice when both samples have at most 10 000 values): the probability, under the null, that the
 *   lattice path of the merged samples leaves the band |x/m − y/n| < D: Hodges' treatment of Drion/Gnedenko/
 *   Korolyuk, for n = m by the alternating binomial sum, otherwise the "inside" recursion for 1 − p (Viehmann 2021),
 *   rescaled column by column; if it fails (not a probability) the asymptotic method answers.
 * - asymp: the one-sample Kolmogorov distribution at n = round(mn/(m+n)) (scipy's kstwo), by Simard and L'Ecuyer's
 *   choice of algorithm: Ruben–Gambino at the ends, the Durbin matrix (Marsaglia–Tsang–Wang) for small n·d²,
 *   2 × Smirnov's one-sided tail (the Birnbaum–Tingey sum, in logs) for large n·d², Pelz–Good otherwise. Where scipy
 *   uses Pomeranz's recursion (n ≤ 140) the Durbin matrix answers: both are exact.
 */
import { ArgumentError } from "../util/errors.js";
import { lchoose } from "./special.js";

export type KsMethod = "auto" | "exact" | "asymp";

export interface KsResult {
  /** sup |F_ref − F_cur| over the merged sample. */
  statistic: number;
  pValue: number;
  /** The method that gave the p-value. */
  method: "exact" | "asymp";
}

const MAX_AUTO_N = 10000;

function sortedFinite(what: string, a: ArrayLike<number>): Float64Array {
  if (a.length === 0) throw new ArgumentError(`ksTwoSample: the ${what} sample is empty`);
  const out = Float64Array.from(a);
  for (const v of out) if (!Number.isFinite(v)) throw new ArgumentError(`ksTwoSample: the ${what} sample holds ${v}`);
  return out.sort();
}

/** The largest gap between the two empirical CDFs (both sorted ascending). */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length,
    n2 = b.length;
  let i = 0,
    j = 0,
    d = 0;
  while (i < n1 && j < n2) {
    const v = Math.min(a[i]!, b[j]!);
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  return d;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Two-sided two-sample KS test of `reference` against `current`. */
export function ksTwoSample(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  method: KsMethod = "auto",
): KsResult {
  const a = sortedFinite("reference", reference),
    b = sortedFinite("current", current);
  const n1 = a.length,
    n2 = b.length;
  let d = ksStatistic(a, b);
  let mode: "exact" | "asymp" = method === "auto" ? (Math.max(n1, n2) <= MAX_AUTO_N ? "exact" : "asymp") : method;
  const g = gcd(n1, n2);
  if (mode === "exact" && n1 / g >= 2147483647 / (n2 / g)) mode = "asymp";
  if (mode === "exact") {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, method: "exact" };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pValue: p, method: "exact" };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = Math.round((m * n) / (m + n));
  return { statistic: d, pValue: clip(kolmogorovSf(en, d)), method: "asymp" };
}

const clip = (p: number): number => Math.min(1, Math.max(0, p));

/** Pr(D_{n,n} ≥ h/n) = 2 Σ_k (−1)^(k−1) C(2n, n−kh)/C(2n, n), in Horner form (no cancellation). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * The share of lattice paths from (0,0) to (m,n) that leave |nx/g − my/g| < h, computed as 1 − (share inside) by
 * Viehmann's recursion on one sliding column.
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g,
    ng = n / g;
  let minj = 0,
    maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj,
      lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let t = maxj - minj; t < maxj - minj + (lastlen - curlen); t++) A[t] = 1;
  }
  return A[maxj - minj - 1]!;
}

const E128 = 2 ** 128,
  EM128 = 2 ** -128;
/** B_2j / (2j (2j − 1)), highest order first. */
const STIRLING = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

/** ln(n!/nⁿ) by Stirling's series with n ln n taken out first. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/** Pr(D_n ≥ x) for the one-sample, two-sided Kolmogorov statistic D_n (scipy's kstwo.sf). */
export function kolmogorovSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1);
    } else cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip(1 - durbinCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

/** Smirnov's one-sided tail Pr(D⁺_n ≥ x), the Birnbaum–Tingey sum with each term in logs. */
export function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  let sum = 0;
  const last = Math.floor(n * (1 - x));
  for (let j = 0; j <= last; j++) {
    const a = 1 - x - j / n,
      b = x + j / n;
    if (a <= 0) {
      if (n - j === 0) sum += Math.exp(lchoose(n, j) + (j - 1) * Math.log(b));
      continue;
    }
    sum += Math.exp(lchoose(n, j) + (n - j) * Math.log(a) + (j - 1) * Math.log(b));
  }
  return x * sum;
}

/** Pr(D_n ≤ d) by Durbin's matrix (Marsaglia, Tsang and Wang 2003): the k-th diagonal entry of (n!/nⁿ)·Hⁿ. */
function durbinCdf(n: number, d: number): number {
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m),
    w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  let P: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let nn = n,
    expnt = 0,
    hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      P = matmul(P, H, m);
      expnt += hexpnt;
    }
    H = matmul(H, H, m);
    hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > E128) {
      for (let i = 0; i < H.length; i++) H[i]! /= E128;
      hexpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  return clip(p * 2 ** expnt);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += aik * b[k * m + j]!;
    }
  return out;
}

/** Pelz and Good's (1976) approximation of Pr(D_n ≤ x), the Li-Chien/Korolyuk series in theta-function form. */
function pelzGoodCdf(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const z2 = z * z,
    z3 = z2 * z,
    z4 = z2 * z2,
    z6 = z4 * z2;
  const PI2 = Math.PI ** 2,
    PI4 = PI2 * PI2,
    PI6 = PI4 * PI2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2,
    k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4,
    k2b = ((2 * z4 - 5 * z2) * PI2) / 4,
    k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64,
    k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16,
    k3b = (PI2 * (135 * z4 - 96 * z6)) / 4,
    k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m,
      m4 = m2 * m2,
      m6 = m4 * m2;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + c[i]!;
  }
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0,
    k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k,
      qp = q ** k2,
      kpi = Math.PI * k;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2]! += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3]! += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}
