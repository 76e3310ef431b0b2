/**
 * Int8 inference ops (dynamic quantization, as ONNX Runtime's and PyTorch's quantize_dynamic do it): weights
 * quantized per output channel once, activations per row on every call, exact int32 products, fp32 out. These ops
 * record no gradient: an int8 layer is for inference only.
 */
import { ShapeError, fmtShape } from "../../util/errors.js";
import { ACTIVATIONS, backend, int8PackedLength, type Activation } from "../../backend/index.js";
import { Tensor, isGradEnabled } from "../tensor.js";
import { f32, outUninit, requireF32, requireRank } from "./common.js";

/** Per-row symmetric int8 of x [rows, cols]: q (i8, same shape) and scales (f32 [rows]), see Kernels.quantizeRows. */
export function quantizeRowsInt8(x: Tensor): { q: Tensor; scale: Tensor } {
  requireF32("quantizeRowsInt8", x);
  requireRank("quantizeRowsInt8", x, 1, "x");
  const cols = x.shape[x.rank - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const q = outUninit(x.shape, "i8");
  const scale = outUninit(x.shape.slice(0, -1), "f32");
  backend().quantizeRows(x.storage, q.storage, scale.storage, rows, cols);
  return { q, scale };
}

/** Int8 weights W [n, k] (i8) in the layout qlinear reads: a flat i8 tensor of int8PackedLength(n, k). */
export function packInt8(w: Tensor): Tensor {
  if (w.dtype !== "i8" || w.rank !== 2)
    throw new ShapeError(`packInt8: weights must be an i8 [out, in] tensor, got ${w.dtype}${fmtShape(w.shape)}`);
  const [n, k] = w.shape;
  const packed = new Tensor(backend().allocate("i8", int8PackedLength(n, k)), [int8PackedLength(n, k)]);
  backend().packInt8(w.storage, packed.storage, n, k);
  return packed;
}

/**
 * act(x·Wᵀ + b) with int8 weights: `packed` from packInt8 of W [n, k], `scale` its f32 [n] per-channel scales.
 * Inference only: asking for a gradient (grad mode on and x requiring one) is an error.
 */
export function qlinear(
  x: Tensor,
  packed: Tensor,
  scale: Tensor,
  n: number,
  bias: Tensor | null = null,
  act: Activation = "identity",
): Tensor {
  requireF32("qlinear", x, scale, ...(bias ? [bias] : []));
  requireRank("qlinear", x, 1, "x");
  if (isGradEnabled() && x.requiresGrad)
    throw new ShapeError(
      "qlinear: int8 layers are for inference only and have no gradient; run the model under noGrad() (or train the fp32 model and quantize it afterwards)",
    );
  const k = x.shape[x.rank - 1];
  if (packed.dtype !== "i8" || packed.size !== int8PackedLength(n, k))
    throw new ShapeError(
      `qlinear: packed weights must be i8 of ${int8PackedLength(n, k)} elements for [${n}, ${k}], got ${packed.dtype}${fmtShape(packed.shape)}`,
    );
  if (scale.size !== n) throw new ShapeError(`qlinear: scale must be [${n}], got ${fmtShape(scale.shape)}`);
  if (bias && bias.size !== n) throw new ShapeError(`qlinear: bias must be [${n}], got ${fmtShape(bias.shape)}`);
  if (!ACTIVATIONS.includes(act))
    throw new ShapeError(`qlinear: unknown activation "${act}" (known: ${ACTIVATIONS.join(", ")})`);
  const rows = k === 0 ? 0 : x.size / k;
  const shape = [...x.shape.slice(0, -1), n];
  const y = outUninit(shape);
  const b = backend();
  if (act === "identity") {
    b.qlinear(x.storage, packed.storage, scale.storage, bias ? bias.storage : null, y.storage, { rows, n, k });
    return y;
  }
  b.qlinear(x.storage, packed.storage, scale.storage, null, y.storage, { rows, n, k });
  b.biasActivation(act, y.storage, bias ? bias.storage : f32(n), y.storage, rows, n);
  return y;
}
