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
import {
  type Tensor,
  add,
  linear,
  mul,
  reshape,
  sigmoid,
  slice,
  stack,
  sub,
  tanh,
  tensor,
  where,
  zeros,
} from "../tensor/index.js";
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
      masks.push(tensor(s, [b, 1]));
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

  /**
   * The loop both cells share. Per layer: dropout on its input (above the first), one GEMM projecting every step's
   * input [B, T, G·H], then at each step `cell` maps the step's input projection gi [B, G·H], the hidden state's
   * projection gh [B, G·H] and the state (h first, then c for the LSTM) to the new state. Steps past a sequence's
   * end keep the old state and output zeros. Returns the top layer's h at every step [B, T, H] and each state's
   * final value per layer, [L, B, H] each, in `initial`'s order.
   */
  protected scan(
    x: Tensor,
    input: RecurrentInput,
    initial: readonly ("h0" | "c0")[],
    cell: (gi: Tensor, gh: Tensor, state: readonly Tensor[]) => Tensor[],
  ): { output: Tensor; final: Tensor[] } {
    this.checkInput(x);
    const [b, t] = x.shape;
    const masks = this.stepMasks(x, input);
    const finals: Tensor[][] = initial.map(() => []);
    let layerIn = x;
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) layerIn = this.interLayerDropout.forward(layerIn);
      const xProj = linear(layerIn, this.param("weight_ih", l), this.param("bias_ih", l)); // [B, T, G·H], one GEMM for all steps
      let state = initial.map((name) => this.initialState(input[name], l, b, name));
      const outs: Tensor[] = [];
      for (let s = 0; s < t; s++) {
        const gi = step(xProj, s);
        const gh = linear(state[0]!, this.param("weight_hh", l), this.param("bias_hh", l));
        const next = cell(gi, gh, state);
        const m = masks[s];
        if (m) {
          state = next.map((v, i) => where(m, v, state[i]!));
          outs.push(where(m, next[0]!, 0));
        } else {
          state = next;
          outs.push(next[0]!);
        }
      }
      state.forEach((v, i) => finals[i]!.push(v));
      layerIn = t > 0 ? stack(outs, 1) : zeros([b, 0, this.hiddenSize]);
    }
    return { output: layerIn, final: finals.map((f) => stack(f, 0)) };
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
    const H = this.hiddenSize;
    const { output, final } = this.scan(x, input, ["h0", "c0"], (gi, gh, [, c]) => {
      const gates = add(gi, gh);
      const i = sigmoid(gate(gates, 0, H));
      const f = sigmoid(gate(gates, 1, H));
      const g = tanh(gate(gates, 2, H));
      const o = sigmoid(gate(gates, 3, H));
      const cNew = add(mul(f, c!), mul(i, g));
      return [mul(o, tanh(cNew)), cNew];
    });
    return { output, h: final[0]!, c: final[1]! };
  }
}

export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  forward(x: Tensor, input: RecurrentInput = {}): RecurrentOutput {
    const H = this.hiddenSize;
    const { output, final } = this.scan(x, input, ["h0"], (gi, gh, [h]) => {
      const r = sigmoid(add(gate(gi, 0, H), gate(gh, 0, H)));
      const z = sigmoid(add(gate(gi, 1, H), gate(gh, 1, H)));
      const n = tanh(add(gate(gi, 2, H), mul(r, gate(gh, 2, H))));
      return [add(n, mul(z, sub(h!, n)))]; // (1 - z)·n + z·h
    });
    return { output, h: final[0]! };
  }
}
