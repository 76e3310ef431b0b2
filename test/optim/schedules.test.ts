import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../../src/tensor/index.js";
import {
  LRScheduler,
  SGD,
  constant,
  cosine,
  linearWarmupDecay,
  oneCycle,
  slantedTriangular,
} from "../../src/optim/index.js";

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("linear warmup + decay (transformers' get_linear_schedule_with_warmup)", () => {
  const f = linearWarmupDecay({ warmupSteps: 10, totalSteps: 110 });
  near(f(0), 0);
  near(f(5), 0.5);
  near(f(10), 1);
  near(f(60), 0.5);
  near(f(110), 0);
  near(f(200), 0);
  assert.throws(() => linearWarmupDecay({ warmupSteps: 20, totalSteps: 10 }), /warmupSteps/);
});

test("cosine with warmup and a floor", () => {
  const f = cosine({ warmupSteps: 10, totalSteps: 110 });
  near(f(10), 1);
  near(f(60), 0.5);
  near(f(110), 0);
  const g = cosine({ totalSteps: 100, minRatio: 0.1 });
  near(g(100), 0.1);
  near(g(50), 0.55);
});

test("slanted triangular (ULMFiT): peak at cut, 1/ratio at both ends", () => {
  const f = slantedTriangular({ totalSteps: 1000, cutFrac: 0.1, ratio: 32 });
  near(f(0), 1 / 32);
  near(f(100), 1);
  near(f(50), (1 + 0.5 * 31) / 32);
  near(f(1000), 1 / 32);
  near(f(550), (1 + 0.5 * 31) / 32);
});

test("one-cycle (torch OneCycleLR, cosine): starts at 1/div, peaks at pctStart, ends at 1/(div·finalDiv)", () => {
  const f = oneCycle({ totalSteps: 100, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 });
  near(f(0), 1 / 25);
  near(f(29), 1);
  near(f(99), 1 / 25 / 1e4);
  assert.ok(f(60) < 1 && f(60) > f(90));
});

test("LRScheduler scales each group's peak learning rate and can jump to a step", () => {
  const opt = new SGD(
    [
      { params: [tensor([1], [1], { requiresGrad: true })], lr: 0.1 },
      { params: [tensor([1], [1], { requiresGrad: true })], lr: 0.01 },
    ],
    { lr: 1 },
  );
  const s = new LRScheduler(opt, linearWarmupDecay({ warmupSteps: 2, totalSteps: 4 }));
  assert.deepEqual(s.lrs(), [0, 0]);
  s.step();
  near(s.lrs()[0], 0.05);
  near(s.lrs()[1], 0.005);
  s.setStep(3);
  near(s.lrs()[0], 0.05);
  const c = new LRScheduler(opt, constant());
  near(c.lrs()[0], 0.1);
});
