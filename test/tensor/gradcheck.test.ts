/** Finite-difference gradient checks for every primitive in the op table. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.js";
import { PRIMITIVES, Tensor, fill_, noGrad, type Primitive } from "../../src/tensor/index.js";
import { OP_TABLE, type OpCase } from "./op-table.js";

function weightedSum(y: Tensor, w: Float64Array): number {
  const v = y.toFloat32Array();
  let s = 0;
  for (let i = 0; i < y.size; i++) s += v[i] * w[i];
  return s;
}

/** The primitives that appear in the graph behind y. */
function opsInGraph(y: Tensor): Set<Primitive> {
  const ops = new Set<Primitive>();
  const stack = [y];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    ops.add(t.node.op);
    stack.push(...t.node.inputs);
  }
  return ops;
}

export function gradcheck(prim: Primitive, c: OpCase, seed = 1): void {
  const rng = new Rng(seed);
  const inputs = c.make(rng);
  const diff = inputs.map((t, i) => t.dtype === "f32" && !(c.constant ?? []).includes(i));
  inputs.forEach((t, i) => (t.requiresGrad = diff[i]));
  const y = c.fn(...inputs);
  assert.ok(opsInGraph(y).has(prim), `case "${c.label}" does not exercise ${prim}`);
  const w = new Float64Array(y.size).map(() => rng.normal());
  y.backward(new Tensor(Float32Array.from(w), y.shape));

  const eps = c.eps ?? 1e-2;
  const atol = c.atol ?? 2e-3;
  const rtol = c.rtol ?? 2e-2;
  inputs.forEach((x, i) => {
    if (!diff[i]) return;
    assert.ok(x.grad, `${prim} "${c.label}": input ${i} got no gradient`);
    const analytic = x.grad!.toFloat32Array();
    const values = x.toFloat32Array();
    for (let j = 0; j < x.size; j++) {
      const orig = values[j];
      fill_(x, orig + eps, j, j + 1);
      const up = noGrad(() => weightedSum(c.fn(...inputs), w));
      fill_(x, orig - eps, j, j + 1);
      const down = noGrad(() => weightedSum(c.fn(...inputs), w));
      fill_(x, orig, j, j + 1);
      const numeric = (up - down) / (2 * eps);
      const a = analytic[j];
      assert.ok(
        Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric),
        `${prim} "${c.label}": d/d input${i}[${j}] analytic ${a} vs numeric ${numeric}`,
      );
    }
  });
}

test("every primitive has at least one case in the op table", () => {
  const empty = PRIMITIVES.filter((p) => OP_TABLE[p].length === 0);
  assert.deepEqual(empty, []);
});

for (const prim of PRIMITIVES) {
  for (const c of OP_TABLE[prim]) {
    test(`gradcheck ${prim}: ${c.label}`, () => gradcheck(prim, c));
  }
}
