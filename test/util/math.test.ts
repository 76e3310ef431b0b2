import { test } from "node:test";
import assert from "node:assert/strict";
import { erf, erfcAbs, normCdf } from "../../src/util/math.js";

// reference values: scipy.special.erf / scipy.stats.norm.cdf (float64)
const ERF: [number, number][] = [
  [0, 0],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [2, 0.9953222650189527],
  [3.5, 0.9999992569016276],
];
const PHI: [number, number][] = [
  [-3, 0.0013498980316301],
  [-1, 0.15865525393145707],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1.96, 0.9750021048517795],
];

test("erf and the normal CDF agree with scipy to the fit's 1.2e-7", () => {
  for (const [x, want] of ERF) {
    assert.ok(Math.abs(erf(x) - want) < 1.2e-7, `erf(${x}) = ${erf(x)}, scipy ${want}`);
    if (x > 0) assert.equal(erf(-x), -erf(x), `erf is odd at ${x}`); // at 0 the fit leaves erf(0) = 3e-8
  }
  for (const [x, want] of PHI)
    assert.ok(Math.abs(normCdf(x) - want) < 1.2e-7, `Φ(${x}) = ${normCdf(x)}, scipy ${want}`);
});

test("erf and Φ come from the same erfc(|x|) fit", () => {
  for (const x of [-2.5, -0.3, 0.7, 4]) {
    assert.equal(erfcAbs(x), erfcAbs(-x));
    assert.equal(erf(Math.abs(x)), 1 - erfcAbs(x));
    assert.equal(normCdf(-Math.abs(x)), 0.5 * erfcAbs(x / Math.SQRT2));
  }
});
