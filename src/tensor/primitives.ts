/**
 * Every differentiable primitive, listed once. The gradient-check and backend-parity tests are driven by a table
 * keyed by this list (test/tensor/op-table.ts), so a primitive without a test case does not compile.
 */
export const PRIMITIVES = [
  // elementwise, broadcasting
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "where",
  // elementwise, unary
  "neg",
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "tanh",
  "sigmoid",
  "relu",
  "gelu",
  "gelu_tanh",
  "silu",
  "abs",
  "square",
  "reciprocal",
  "powScalar",
  "affine",
  // dtype
  "cast",
  // linear algebra
  "matmul",
  "linear",
  // reductions
  "sum",
  "max",
  "min",
  "takeAlong",
  // layout
  "reshape",
  "permute",
  "slice",
  "concat",
  "broadcastTo",
  // neural-network ops
  "softmax",
  "logSoftmax",
  "attentionSoftmax",
  "layerNorm",
  "embedding",
  "dropout",
  "crossEntropy",
  "flashAttention",
  // activation checkpointing: a recomputed subgraph
  "checkpoint",
] as const;

export type Primitive = (typeof PRIMITIVES)[number];
