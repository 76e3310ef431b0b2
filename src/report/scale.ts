/**
 * Axis arithmetic for the report's charts: nice tick values (1, 2, 5 × 10^k), log-axis ticks, tick labels that
 * stay short for both learning rates (3e-5) and step counts (12k), and the data-to-pixel mapping.
 */

export interface Scale {
  domain: [number, number];
  range: [number, number];
  log: boolean;
  ticks: number[];
  /** Formats a tick value; all ticks of one axis share a precision. */
  format: (v: number) => string;
  map: (v: number) => number;
}

/** The nice step (1, 2, 2.5 or 5 × 10^k) closest to span / count. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  const m = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  return m * pow;
}

/** Removes binary noise from k * step (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

/** Ticks covering [lo, hi] at a nice step; with `extend` the domain grows to the outer ticks. */
export function linearTicks(
  lo: number,
  hi: number,
  count = 5,
  extend = false,
): { domain: [number, number]; ticks: number[]; step: number } {
  if (!(hi > lo)) {
    // A flat series: centre it in a unit-ish band so it is visible and labelled.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const first = Math.ceil(lo / step - 1e-9),
    last = Math.floor(hi / step + 1e-9);
  const domain: [number, number] = extend
    ? [clean(Math.floor(lo / step + 1e-9) * step), clean(Math.ceil(hi / step - 1e-9) * step)]
    : [lo, hi];
  const ticks: number[] = [];
  const a = extend ? Math.round(domain[0] / step) : first,
    b = extend ? Math.round(domain[1] / step) : last;
  for (let k = a; k <= b; k++) ticks.push(clean(k * step));
  return { domain, ticks, step };
}

/** Decade ticks (plus 2 and 5 when the axis spans fewer than three decades) over a positive range. */
export function logTicks(lo: number, hi: number): { domain: [number, number]; ticks: number[] } {
  if (!(lo > 0)) throw new RangeError(`a log axis needs positive values, got a minimum of ${lo}`);
  let e0 = Math.floor(Math.log10(lo) + 1e-9),
    e1 = Math.ceil(Math.log10(hi) - 1e-9);
  if (e1 <= e0) e1 = e0 + 1;
  const ticks: number[] = [];
  const fine = e1 - e0 < 3;
  for (let e = e0; e <= e1; e++) {
    for (const m of fine ? [1, 2, 5] : [1]) {
      const v = clean(m * 10 ** e);
      if (v <= 10 ** e1 * 1.0000001) ticks.push(v);
    }
  }
  return { domain: [clean(10 ** e0), clean(10 ** e1)], ticks };
}

/** Short label for a number: 3 significant digits, exponents for very small or large values, k/M for counts. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e9) return expo(v, digits);
  if (a >= 1e4 && Number.isInteger(v)) {
    const [div, suffix] = a >= 1e6 ? [1e6, "M"] : [1e3, "k"];
    return trimZeros((v / div).toPrecision(digits)) + suffix;
  }
  if (a >= 10 ** digits) return String(Math.round(v));
  return trimZeros(v.toPrecision(digits));
}

function expo(v: number, digits: number): string {
  const [m, e] = v.toExponential(digits - 1).split("e");
  return `${trimZeros(m!)}e${Number(e)}`;
}

function trimZeros(s: string): string {
  return s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s;
}

/** Decimals needed to write x exactly (0.25 → 2, 5 → 0), up to 12. */
function decimalsOf(x: number): number {
  for (let d = 0; d < 12; d++) {
    const m = x * 10 ** d;
    if (Math.abs(m - Math.round(m)) < 1e-9 * Math.max(1, Math.abs(m))) return d;
  }
  return 12;
}

/** A formatter for the ticks of one linear axis: enough decimals for the step, exponents for tiny steps. */
export function tickFormatter(step: number, ticks: readonly number[]): (v: number) => string {
  const maxAbs = Math.max(0, ...ticks.map(Math.abs));
  if (step < 1e-3 || maxAbs >= 1e9) {
    const sig = Math.max(
      1,
      Math.min(6, Math.floor(Math.log10(Math.max(maxAbs, step))) - Math.floor(Math.log10(step)) + 1),
    );
    return (v) => (v === 0 ? "0" : expo(v, sig));
  }
  if (maxAbs >= 1e4 && Number.isInteger(step)) {
    // 12k, 1.5M: as many digits as the step needs
    const div = maxAbs >= 1e6 ? 1e6 : 1e3;
    const decimals = decimalsOf(step / div);
    const suffix = div === 1e6 ? "M" : "k";
    return (v) => (v === 0 ? "0" : trimZeros((v / div).toFixed(decimals)) + suffix);
  }
  const decimals = decimalsOf(step);
  return (v) => (v === 0 ? "0" : decimals > 0 ? trimZeros(v.toFixed(decimals)) : v.toFixed(0));
}

export interface ScaleOptions {
  log?: boolean;
  /** Fixed domain (no tick-driven extension). */
  domain?: [number, number];
  /** Grow the domain to the nearest outer ticks (used for value axes). */
  nice?: boolean;
  ticks?: number;
}

/** A scale from the data values (non-finite values, and non-positive ones on a log axis, are ignored). */
export function makeScale(values: readonly number[], range: [number, number], opts: ScaleOptions = {}): Scale {
  const log = opts.log ?? false;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (opts.domain) [lo, hi] = opts.domain;
  if (!Number.isFinite(lo)) [lo, hi] = log ? [1, 10] : [0, 1];
  let domain: [number, number], ticks: number[], format: (v: number) => string;
  if (log) {
    const t = opts.domain
      ? { domain: opts.domain, ticks: logTicks(lo, hi).ticks.filter((v) => v >= lo * 0.999999 && v <= hi * 1.000001) }
      : logTicks(lo, hi);
    domain = t.domain;
    ticks = t.ticks;
    format = (v) => formatNumber(v, 2);
  } else {
    const t = linearTicks(lo, hi, opts.ticks ?? 5, !opts.domain && (opts.nice ?? false));
    domain = opts.domain && hi > lo ? opts.domain : t.domain;
    ticks = t.ticks;
    format = tickFormatter(t.step, t.ticks);
  }
  const [d0, d1] = log ? [Math.log10(domain[0]), Math.log10(domain[1])] : domain;
  const [r0, r1] = range;
  const k = (r1 - r0) / (d1 - d0 || 1);
  const map = log ? (v: number) => r0 + (Math.log10(v) - d0) * k : (v: number) => r0 + (v - d0) * k;
  return { domain, range, log, ticks, format, map };
}
