/**
 * Backend parity for every op of the op table: the same case, run forward and backward on the native backend and
 * on the TypeScript reference, gives the same outputs and gradients. Adding an op to the table adds it here.
 */
import { test } from "node:test";
import { jsBackend, withBackend } from "../../src/backend/index.js";
import { loadNativeBackend } from "../../src/backend/native.js";
import { PRIMITIVES, Tensor } from "../../src/tensor/index.js";
import { Rng } from "../../src/util/rng.js";
import { assertClose } from "../backend/helpers.js";
import { OP_TABLE, type OpCase } from "./op-table.js";

const native = loadNativeBackend().backend;
const skip = native ? false : "native addon unavailable";

/** The case's output and the gradients of its differentiated inputs, as plain numbers. */
function run(c: OpCase): number[][] {
  const rng = new Rng(11);
  const inputs = c.make(rng);
  inputs.forEach((t, i) => (t.requiresGrad = t.dtype === "f32" && !(c.constant ?? []).includes(i)));
  const y = c.fn(...inputs);
  const w = Float32Array.from({ length: y.size }, () => rng.normal());
  if (y.requiresGrad) y.backward(new Tensor(w, y.shape));
  return [y.toArray(), ...inputs.filter((t) => t.requiresGrad).map((t) => t.grad!.toArray())];
}

for (const prim of PRIMITIVES) {
  for (const c of OP_TABLE[prim]) {
    test(`${prim}: ${c.label} agrees on both backends`, { skip }, () => {
      const want = withBackend(jsBackend, () => run(c));
      const got = withBackend(native!, () => run(c));
      got.forEach((g, i) =>
        assertClose(g, want[i], { rtol: 1e-4, atol: 1e-5 }, `${prim} ${c.label} ${i === 0 ? "output" : `grad ${i}`}`),
      );
    });
  }
}
