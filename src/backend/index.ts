/**
 * Which backend runs the kernels. The native addon is used when it loads (unless GRAFT_BACKEND=js);
 * otherwise graft runs on the TypeScript reference backend and says so once on stderr.
 */
import type { Backend } from "./backend.js";
import { jsBackend } from "./js/index.js";
import { loadNativeBackend } from "./native.js";
import { backendChoice } from "../util/env.js";

export type {
  Backend,
  Storage,
  DType,
  HostArray,
  F32,
  I32,
  UnaryOp,
  BinaryOp,
  ReduceOp,
  Activation,
  AxisSizes,
  MatmulParams,
  StridedView,
  CrossEntropyParams,
  AttentionSoftmaxParams,
  FlashAttentionParams,
  AdamHyper,
  SgdHyper,
  QLinearParams,
} from "./backend.js";
export { UNARY_OPS, BINARY_OPS, ACTIVATIONS, DTYPES, KERNEL_METHODS } from "./backend.js";
export { int8PackedLength } from "./backend.js";
export { jsBackend } from "./js/index.js";
export { bf16FromF32Bits, bf16FromNumber, bf16ToNumber, f16FromF32Bits, f16FromNumber, f16ToNumber } from "./dtypes.js";

let current: Backend | null = null;

function choose(): Backend {
  const choice = backendChoice();
  if (choice === "js") {
    process.stderr.write("graft: running on the TypeScript backend (GRAFT_BACKEND=js)\n");
    return jsBackend;
  }
  const native = loadNativeBackend();
  if (native.backend) return native.backend;
  if (choice === "native")
    throw new Error(`GRAFT_BACKEND=native but the native addon could not be loaded: ${native.reason}`);
  process.stderr.write(`graft: native backend unavailable (${native.reason}); running on the TypeScript backend\n`);
  return jsBackend;
}

/** The active backend (chosen on first use). */
export function backend(): Backend {
  if (current === null) current = choose();
  return current;
}

/** Switches the active backend; returns the previous one. */
export function setBackend(b: Backend): Backend {
  const prev = backend();
  current = b;
  return prev;
}

/** Runs fn with b as the active backend, restoring the previous one afterwards. */
export function withBackend<T>(b: Backend, fn: () => T): T {
  const prev = setBackend(b);
  try {
    return fn();
  } finally {
    current = prev;
  }
}
