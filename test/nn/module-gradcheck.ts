/** Finite-difference check of a module's gradients with respect to its parameters and f32 inputs. */
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { Tensor, fill_, noGrad } from "../../src/tensor/index.js";
import type { Module } from "../../src/nn/index.js";

export function checkModuleGradients(
  label: string,
  module: Module,
  inputs: Tensor[],
  forward: () => Tensor,
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): void {
  const rng = new Rng(opts.seed ?? 3);
  for (const x of inputs) {
    x.requiresGrad = true;
    x.grad = null;
  }
  module.zeroGrad();
  const y = forward();
  const w = Float32Array.from({ length: y.size }, () => rng.normal());
  y.backward(new Tensor(w, y.shape));
  const weighted = (t: Tensor) => {
    let s = 0;
    const v = t.toFloat32Array();
    for (let i = 0; i < t.size; i++) s += v[i] * w[i];
    return s;
  };
  const eps = opts.eps ?? 1e-2,
    atol = opts.atol ?? 3e-3,
    rtol = opts.rtol ?? 3e-2;
  const targets: [string, Tensor][] = [
    ...module.namedParameters().filter(([, p]) => p.requiresGrad),
    ...inputs.map((x, i) => [`input${i}`, x] as [string, Tensor]),
  ];
  for (const [name, t] of targets) {
    assert.ok(t.grad, `${label}: ${name} got no gradient`);
    const values = t.toFloat32Array(),
      analytic = t.grad!.toFloat32Array();
    for (let j = 0; j < t.size; j++) {
      const orig = values[j];
      fill_(t, orig + eps, j, j + 1);
      const up = noGrad(() => weighted(forward()));
      fill_(t, orig - eps, j, j + 1);
      const down = noGrad(() => weighted(forward()));
      fill_(t, orig, j, j + 1);
      const numeric = (up - down) / (2 * eps);
      const a = analytic[j];
      assert.ok(
        Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric),
        `${label}: d/d ${name}[${j}] analytic ${a} vs numeric ${numeric}`,
      );
    }
  }
}
