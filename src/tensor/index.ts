/** The tensor layer's public surface: Tensor, creation, grad mode and every differentiable op. */
export {
  Tensor,
  tensor,
  zeros,
  ones,
  full,
  scalar,
  arange,
  randn,
  rand,
  noGrad,
  isGradEnabled,
  record,
  checkpoint,
  setGradReadyHook,
  cast,
  isFloatDType,
  type DType,
  type HostValues,
  type GradNode,
} from "./tensor.js";
export { sizeOf, stridesOf, broadcastShapes, type Shape } from "./shape.js";
export { PRIMITIVES, type Primitive } from "./primitives.js";
export * from "./ops/elementwise.js";
export * from "./ops/linalg.js";
export * from "./ops/reduce.js";
export * from "./ops/layout.js";
export * from "./ops/nn.js";
export * from "./ops/inplace.js";
export * from "./ops/attention.js";
export * from "./ops/quant.js";
export * from "./ops/products.js";
