import type { AxisSizes, F32, I32, ReduceOp } from "../backend.js";

export function reduce(op: ReduceOp, x: F32, out: F32, { outer, dim, inner }: AxisSizes): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let acc = op === "sum" ? 0 : x[base];
      for (let d = 0; d < dim; d++) {
        const v = x[base + d * inner];
        if (op === "sum") acc += v;
        else if (op === "max") {
          if (v > acc || Number.isNaN(v)) acc = v;
        } else if (v < acc || Number.isNaN(v)) acc = v;
      }
      out[o * inner + i] = dim === 0 && op !== "sum" ? NaN : acc;
    }
  }
}

/** Index of the first maximum (or minimum) along the axis, as PyTorch and numpy pick. */
export function argReduce(op: "argmax" | "argmin", x: F32, out: I32, { outer, dim, inner }: AxisSizes): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let best = 0;
      let bv = x[base];
      for (let d = 1; d < dim; d++) {
        const v = x[base + d * inner];
        if (Number.isNaN(bv)) break;
        if (Number.isNaN(v) || (op === "argmax" ? v > bv : v < bv)) {
          bv = v;
          best = d;
        }
      }
      out[o * inner + i] = best;
    }
  }
}

function checkIndex(j: number, dim: number): void {
  if (!(j >= 0 && j < dim)) throw new RangeError(`index ${j} is out of range for an axis of size ${dim}`);
}

export function gatherAxis(x: F32, idx: I32, out: F32, { outer, dim, inner }: AxisSizes): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const j = idx[o * inner + i];
      checkIndex(j, dim);
      out[o * inner + i] = x[(o * dim + j) * inner + i];
    }
  }
}

export function scatterAddAxis(dy: F32, idx: I32, dx: F32, { outer, dim, inner }: AxisSizes): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const j = idx[o * inner + i];
      checkIndex(j, dim);
      dx[(o * dim + j) * inner + i] += dy[o * inner + i];
    }
  }
}
