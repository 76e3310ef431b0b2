/**
 * LSTM and GRU, multi-layer and batch-first, with torch.nn's parameter names and gate order
 * (LSTM: i, f, g, o; GRU: r, z, n) so PyTorch state dicts load as they are.
 *
 * Variable-length batches: given `lengths` (or a [B, T] mask), steps past a sequence's end leave its state
 * unchanged and produce zero outputs — the same result as pack_padded_sequence / pad_packed_sequence, so the
 * final state of each sequence is the state at its last real token.
 */
import { ArgumentError, ShapeError, fmtShape } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import { Tensor, add, linear, mul, reshape, sigmoid, slice, stack, sub, tanh, where, zeros } from "../tensor/index.js";
import { Module, Parameter } from "./module.js";
import { Dropout } from "./layers.js";
import { initSkipped, uniform_ } from "./init.js";

export interface RecurrentOptions {
  numLayers?: number;
  /** Dropout between layers (not after the last), as torch.nn.LSTM's `dropout`. */
  dropout?: number;
  rng?: Rng;
}

export interface RecurrentInput {
  /** Real length of each sequence in the batch. */
  lengths?: ArrayLike<number>;
  /** [B, T] with 1 for real steps (an alternative to lengths). */
  mask?: Tensor;
  /** Initial hidden state [L, B, H] (and cell state for LSTM); zeros when absent. */
  h0?: Tensor;
  c0?: Tensor;
}

export interface RecurrentOutput {
  /** [B, T, H]: the top layer's hidden state at every step (zeros past each sequence's end). */
  output: Tensor;
  /** [L, B, H]: each layer's final hidden state. */
  h: Tensor;
  /** [L, B, H]: each layer's final cell state (LSTM only). */
  c?: Tensor;
}

abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  interLayerDropout: Dropout;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    opts: RecurrentOptions,
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    for (const [n, v] of [
      ["inputSize", inputSize],
      ["hiddenSize", hiddenSize],
      ["numLayers", this.numLayers],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new ArgumentError(`${this.constructor.name}: ${n} must be a positive integer, got ${v}`);
    }
    this.interLayerDropout = new Dropout(opts.dropout ?? 0, opts.rng);
    const fields = this as unknown as Record<string, Parameter>;
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? inputSize : hiddenSize;
      fields[`weight_ih_l${l}`] = Parameter.zeros([gates * hiddenSize, inp]);
      fields[`weight_hh_l${l}`] = Parameter.zeros([gates * hiddenSize, hiddenSize]);
      fields[`bias_ih_l${l}`] = Parameter.zeros([gates * hiddenSize]);
      fields[`bias_hh_l${l}`] = Parameter.zeros([gates * hiddenSize]);
    }
    if (!initSkipped()) this.resetParameters(opts.rng);
  }

  /** torch's default: every weight and bias U(-1/√H, 1/√H). */
  resetParameters(rng: Rng = defaultRng()): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -k, k, rng);
  }

  protected param(name: string, layer: number): Parameter {
    return (this as unknown as Record<string, Parameter>)[`${name}_l${layer}`];
  }

  /** Per-step masks [B, 1] (null when every sequence runs the full length). */
  protected stepMasks(x: Tensor, input: RecurrentInput): (Tensor | null)[] {
    const [b, t] = x.shape;
    let m: ArrayLike<number> | null = null;
    if (input.lengths) {
      if (input.lengths.length !== b)
        throw new ShapeError(`${this.constructor.name}: ${input.lengths.length} lengths for a batch of ${b}`);
      const mm = new Float32Array(b * t);
      for (let i = 0; i < b; i++) {
        const len = input.lengths[i];
        if (!Number.isInteger(len) || len < 0 || len > t)
          throw new ShapeError(`${this.constructor.name}: length ${len} of sequence ${i} is outside [0, ${t}]`);
        for (let j = 0; j < len; j++) mm[i * t + j] = 1;
      }
      m = mm;
    } else if (input.mask) {
      if (input.mask.size !== b * t)
        throw new ShapeError(
          `${this.constructor.name}: mask ${fmtShape(input.mask.shape)} does not match input [${b}, ${t}]`,
        );
      m = input.mask.toArray();
    }
    if (!m || Array.prototype.every.call(m, (v: number) => v !== 0)) return new Array<Tensor | null>(t).fill(null);
    const masks: (Tensor | null)[] = [];
    for (let j = 0; j < t; j++) {
      const s = new Float32Array(b);
      for (let i = 0; i < b; i++) s[i] = m[i * t + j] ? 1 : 0;
      masks.push(new Tensor(s, [b, 1]));
    }
    return masks;
  }

  protected checkInput(x: Tensor): void {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(
        `${this.constructor.name}: input must be [batch, seq, ${this.inputSize}], got ${fmtShape(x.shape)}`,
      );
    }
  }

  protected initialState(t: Tensor | undefined, layer: number, batch: number, what: string): Tensor {
    if (!t) return zeros([batch, this.hiddenSize]);
    if (t.rank !== 3 || t.shape[0] !== this.numLayers || t.shape[1] !== batch || t.shape[2] !== this.hiddenSize) {
      throw new ShapeError(
        `${this.constructor.name}: ${what} must be [${this.numLayers}, ${batch}, ${this.hiddenSize}], got ${fmtShape(t.shape)}`,
      );
    }
    return reshape(slice(t, 0, layer, layer + 1), [batch, this.hiddenSize]);
  }
}

/** Step t of a [B, T, G] tensor as [B, G]. */
function step(x: Tensor, t: number): Tensor {
  return reshape(slice(x, 1, t, t + 1), [x.shape[0], x.shape[2]]);
}

function gate(g: Tensor, i: number, h: number): Tensor {
  return slice(g, 1, i * h, (i + 1) * h);
}

export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  forward(x: Tensor, input: RecurrentInput = {}): RecurrentOutput {
    this.checkInput(x);
    const [b, t] = x.shape;
    const H = this.hiddenSize;
    const masks = this.stepMasks(x, input);
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let layerIn = x;
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) layerIn = this.interLayerDropout.forward(layerIn);
      const xProj = linear(layerIn, this.param("weight_ih", l), this.param("bias_ih", l)); // [B, T, 4H], one GEMM for all steps
      let h = this.initialState(input.h0, l, b, "h0");
      let c = this.initialState(input.c0, l, b, "c0");
      const outs: Tensor[] = [];
      for (let s = 0; s < t; s++) {
        const gates = add(step(xProj, s), linear(h, this.param("weight_hh", l), this.param("bias_hh", l)));
        const i = sigmoid(gate(gates, 0, H));
        const f = sigmoid(gate(gates, 1, H));
        const g = tanh(gate(gates, 2, H));
        const o = sigmoid(gate(gates, 3, H));
        const cNew = add(mul(f, c), mul(i, g));
        const hNew = mul(o, tanh(cNew));
        const m = masks[s];
        if (m) {
          c = where(m, cNew, c);
          h = where(m, hNew, h);
          outs.push(where(m, hNew, 0));
        } else {
          c = cNew;
          h = hNew;
          outs.push(hNew);
        }
      }
      hs.push(h);
      cs.push(c);
      layerIn = t > 0 ? stack(outs, 1) : zeros([b, 0, H]);
    }
    return { output: layerIn, h: stack(hs, 0), c: stack(cs, 0) };
  }
}

export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  forward(x: Tensor, input: RecurrentInput = {}): RecurrentOutput {
    this.checkInput(x);
    const [b, t] = x.shape;
    const H = this.hiddenSize;
    const masks = this.stepMasks(x, input);
    const hs: Tensor[] = [];
    let layerIn = x;
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) layerIn = this.interLayerDropout.forward(layerIn);
      const xProj = linear(layerIn, this.param("weight_ih", l), this.param("bias_ih", l)); // [B, T, 3H]
      let h = this.initialState(input.h0, l, b, "h0");
      const outs: Tensor[] = [];
      for (let s = 0; s < t; s++) {
        const gi = step(xProj, s);
        const gh = linear(h, this.param("weight_hh", l), this.param("bias_hh", l));
        const r = sigmoid(add(gate(gi, 0, H), gate(gh, 0, H)));
        const z = sigmoid(add(gate(gi, 1, H), gate(gh, 1, H)));
        const n = tanh(add(gate(gi, 2, H), mul(r, gate(gh, 2, H))));
        const hNew = add(n, mul(z, sub(h, n))); // (1 - z)·n + z·h
        const m = masks[s];
        if (m) {
          h = where(m, hNew, h);
          outs.push(where(m, hNew, 0));
        } else {
          h = hNew;
          outs.push(hNew);
        }
      }
      hs.push(h);
      layerIn = t > 0 ? stack(outs, 1) : zeros([b, 0, H]);
    }
    return { output: layerIn, h: stack(hs, 0) };
  }
}
