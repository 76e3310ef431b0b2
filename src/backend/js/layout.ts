import type { F32, I32, StridedView } from "../backend.js";
import { forEachStrided } from "./elementwise.js";

export function stridedCopy(
  src: F32 | I32,
  from: StridedView,
  dst: F32 | I32,
  to: StridedView,
  shape: readonly number[],
  accumulate: boolean,
): void {
  const s0 = from.offset;
  const d0 = to.offset;
  if (accumulate)
    forEachStrided(shape, [from.strides, to.strides], (_i, o) => {
      dst[d0 + o[1]] += src[s0 + o[0]];
    });
  else
    forEachStrided(shape, [from.strides, to.strides], (_i, o) => {
      dst[d0 + o[1]] = src[s0 + o[0]];
    });
}
