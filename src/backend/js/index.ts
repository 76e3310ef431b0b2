/** The TypeScript reference backend: the specification every other backend is tested against. */
import type { F32, HostKernels } from "../backend.js";
import { hostBackend } from "../host.js";
import { matmul } from "./matmul.js";
import { binary, unary, unaryBackward, where } from "./elementwise.js";
import { stridedCopy } from "./layout.js";
import { argReduce, gatherAxis, reduce, scatterAddAxis } from "./reduce.js";
import {
  crossEntropy,
  crossEntropyBackward,
  dropout,
  embedding,
  embeddingBackward,
  layerNorm,
  layerNormBackward,
  softmax,
  softmaxBackward,
} from "./nn.js";
import { adam, sgd } from "./optim.js";
import { flashAttention, flashAttentionBackward } from "./attention.js";
import { packInt8, qlinear, quantizeRows } from "./quant.js";
import { attentionSoftmax, attentionSoftmaxBackward, biasActivation, biasActivationBackward } from "./fused.js";

/** The reference kernels over typed arrays (what the native addon is tested against). */
export const jsKernels: HostKernels = {
  name: "js",
  fill: (out, value) => void out.fill(value),
  axpy(x, y, alpha) {
    for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
  },
  affine(x, out, alpha, beta) {
    for (let i = 0; i < x.length; i++) out[i] = alpha * x[i] + beta;
  },
  sumSquares(xs: readonly F32[]) {
    let s = 0;
    for (const x of xs) for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s;
  },
  matmul,
  unary,
  unaryBackward,
  binary,
  where,
  stridedCopy,
  reduce,
  argReduce,
  gatherAxis,
  scatterAddAxis,
  softmax,
  softmaxBackward,
  attentionSoftmax,
  attentionSoftmaxBackward,
  layerNorm,
  layerNormBackward,
  embedding,
  embeddingBackward,
  dropout,
  crossEntropy,
  crossEntropyBackward,
  biasActivation,
  biasActivationBackward,
  adam,
  sgd,
  flashAttention,
  flashAttentionBackward,
  quantizeRows,
  packInt8,
  qlinear,
};

/** The TypeScript backend: the reference kernels over host storages. */
export const jsBackend = hostBackend(jsKernels);
