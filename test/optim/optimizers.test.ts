import { test } from "node:test";
import assert from "node:assert/strict";
import { type Tensor, tensor } from "../../src/tensor/index.js";
import { Adam, AdamW, SGD, clipGradNorm } from "../../src/optim/index.js";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `index ${i}: ${a[i]} vs ${b[i]}`);
};

function param(values: number[]): Tensor {
  return tensor(values, [values.length], { requiresGrad: true });
}

const GRADS = [
  [0.5, -1.0, 0.25],
  [-0.3, 0.8, 0.1],
  [0.9, 0.05, -0.6],
];

/** Adam/AdamW written out from the paper's formulas in double precision. */
function referenceAdam(
  p0: number[],
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
  decoupled: boolean,
): number[][] {
  const p = [...p0],
    m = p0.map(() => 0),
    v = p0.map(() => 0);
  const trace: number[][] = [];
  GRADS.forEach((g0, t) => {
    const step = t + 1;
    for (let i = 0; i < p.length; i++) {
      let g = g0[i];
      if (decoupled) p[i] *= 1 - lr * wd;
      else g += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mhat = m[i] / (1 - b1 ** step);
      const vhat = v[i] / (1 - b2 ** step);
      p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
    trace.push([...p]);
  });
  return trace;
}

function run(opt: { step(): void }, p: Tensor): number[][] {
  return GRADS.map((g) => {
    p.grad = tensor(g);
    opt.step();
    return p.toArray();
  });
}

test("Adam matches the formulas with bias correction (first step moves each weight by lr·sign(g))", () => {
  const p = param([1, -2, 0.5]);
  const trace = run(new Adam([p], { lr: 0.1 }), p);
  close(trace[0], [0.9, -1.9, 0.4]); // hand-computed: m̂ = g, v̂ = g², so Δ = lr·g/|g|
  referenceAdam([1, -2, 0.5], 0.1, 0.9, 0.999, 1e-8, 0, false).forEach((r, t) => close(trace[t], r));
});

test("Adam with L2 weight decay and AdamW with decoupled decay follow their different rules", () => {
  const p = param([1, -2, 0.5]);
  const adam = run(new Adam([p], { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99] }), p);
  referenceAdam([1, -2, 0.5], 0.05, 0.8, 0.99, 1e-8, 0.1, false).forEach((r, t) => close(adam[t], r));
  const q = param([1, -2, 0.5]);
  const adamw = run(new AdamW([q], { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99] }), q);
  referenceAdam([1, -2, 0.5], 0.05, 0.8, 0.99, 1e-8, 0.1, true).forEach((r, t) => close(adamw[t], r));
  // first AdamW step by hand: p·(1 − lr·wd) − lr·sign(g)
  close(adamw[0], [1 * 0.995 - 0.05, -2 * 0.995 + 0.05, 0.5 * 0.995 - 0.05]);
  assert.notDeepEqual(adam[2], adamw[2]);
});

test("SGD: plain, momentum (buffer starts at the first gradient), Nesterov, weight decay", () => {
  const p = param([1, -2, 0.5]);
  const plain = run(new SGD([p], { lr: 0.1 }), p);
  close(plain[0], [0.95, -1.9, 0.475]);
  const q = param([1, -2, 0.5]);
  const mom = run(new SGD([q], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), q);
  // by hand: g' = g + wd·p; buf1 = g1'; p1 = p0 − lr·buf1; buf2 = 0.9·buf1 + g2'; p2 = p1 − lr·buf2
  const g1 = [0.5 + 0.01, -1 - 0.02, 0.25 + 0.005];
  const p1 = [1 - 0.1 * g1[0], -2 - 0.1 * g1[1], 0.5 - 0.1 * g1[2]];
  close(mom[0], p1);
  const g2 = GRADS[1].map((g, i) => g + 0.01 * p1[i]);
  const buf2 = g1.map((b, i) => 0.9 * b + g2[i]);
  close(
    mom[1],
    p1.map((v, i) => v - 0.1 * buf2[i]),
  );
  const r = param([1, -2, 0.5]);
  const nes = run(new SGD([r], { lr: 0.1, momentum: 0.9, nesterov: true }), r);
  // Nesterov step 1: buf = g; update g + 0.9·buf = 1.9·g
  close(nes[0], [1 - 0.19 * 0.5, -2 + 0.19, 0.5 - 0.19 * 0.25]);
  assert.throws(() => new SGD([r], { lr: 0.1, nesterov: true }), /Nesterov/);
});

test("parameter groups: own learning rates; frozen or gradient-less parameters get no update and no state", () => {
  const a = param([1, 1]);
  const b = param([1, 1]);
  const frozen = param([1, 1]);
  frozen.requiresGrad = false;
  const opt = new SGD(
    [
      { params: [a], lr: 0.1 },
      { params: [b, frozen], lr: 0.01 },
    ],
    { lr: 1 },
  );
  a.grad = tensor([1, 1]);
  b.grad = tensor([1, 1]);
  frozen.grad = tensor([1, 1]);
  opt.step();
  close(a.toArray(), [0.9, 0.9]);
  close(b.toArray(), [0.99, 0.99]);
  assert.deepEqual(frozen.toArray(), [1, 1]);
  const adam = new AdamW([a, b]);
  a.grad = tensor([1, 1]);
  b.grad = null;
  adam.step();
  assert.deepEqual(Object.keys(adam.stateDict().meta.steps), ["0"]);
});

test("optimizer state round trip: a restored optimizer continues identically", () => {
  const p1 = param([1, -2, 0.5]);
  const o1 = new AdamW([p1], { lr: 0.05 });
  p1.grad = tensor(GRADS[0]);
  o1.step();
  const saved = o1.stateDict();
  const p2 = param(p1.toArray());
  const o2 = new AdamW([p2], { lr: 0.05 });
  o2.loadStateDict(saved);
  for (const g of GRADS.slice(1)) {
    p1.grad = tensor(g);
    p2.grad = tensor(g);
    o1.step();
    o2.step();
  }
  assert.deepEqual(p1.toArray(), p2.toArray());
});

test("clipGradNorm scales to the max norm and returns the norm before clipping", () => {
  const a = param([0, 0]);
  const b = param([0]);
  a.grad = tensor([3, 0]);
  b.grad = tensor([4]);
  const norm = clipGradNorm([a, b], 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  close([...a.grad.toArray(), ...b.grad.toArray()], [0.6, 0, 0.8], 1e-5);
  assert.ok(Math.abs(clipGradNorm([a, b], 10) - 1) < 1e-5);
  close(a.grad.toArray(), [0.6, 0], 1e-5);
});
