/**
 * Model adaptation for fine-tuning: which parameters train (freezing, gradual unfreezing) and at what learning
 * rate (layer-wise decay, no weight decay on biases and norms). Layers are found from Hugging Face-style names:
 * `...embeddings...` is depth 0, `...layer.N...` / `...h.N...` / `...lstm..._lN` is depth N+1, anything after
 * the encoder (pooler, head) is the top.
 */
import { ArgumentError } from "../util/errors.js";
import { toRegExp, type Module, type NamePattern } from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";
import type { ParamGroup } from "../optim/index.js";

const LAYER_RE = /(?:^|\.)(?:layer|h|layers|block|blocks)\.(\d+)\./;
const RNN_LAYER_RE = /_l(\d+)$/;
const EMBED_RE = /(?:^|\.)(?:embeddings?|wte|wpe|word_embeddings|position_embeddings|token_type_embeddings)(?:\.|$)/;

/** Number of numbered layers (transformer blocks or recurrent layers) in a model. */
export function countLayers(model: Module): number {
  let n = 0;
  for (const [name] of model.namedParameters()) {
    const m = LAYER_RE.exec(name) ?? RNN_LAYER_RE.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** Depth of a parameter: 0 for embeddings, i+1 for layer i, numLayers+1 for everything above the layers. */
export function depthOf(name: string, numLayers: number): number {
  const m = LAYER_RE.exec(name) ?? RNN_LAYER_RE.exec(name);
  if (m) return Number(m[1]) + 1;
  if (EMBED_RE.test(name)) return 0;
  return numLayers + 1;
}

export interface FreezeSpec {
  /** Freeze everything but the head (linear probing). */
  backbone?: boolean;
  /** Freeze the embeddings. */
  embeddings?: boolean;
  /** Freeze the embeddings and the first N layers. */
  firstLayers?: number;
  /** Freeze parameters whose names match. */
  patterns?: NamePattern[];
  /** Never freeze these (e.g. the new head), whatever the rules above say. */
  keep?: NamePattern[];
}

/** Applies a freeze spec; returns the names of the frozen parameters. */
export function applyFreeze(model: Module, spec: FreezeSpec, headPatterns: NamePattern[] = []): string[] {
  const L = countLayers(model);
  if (
    spec.firstLayers !== undefined &&
    (!Number.isInteger(spec.firstLayers) || spec.firstLayers < 0 || spec.firstLayers > L)
  ) {
    throw new ArgumentError(
      `freeze: firstLayers must be an integer in [0, ${L}] for a model with ${L} layers, got ${spec.firstLayers}`,
    );
  }
  const head = headPatterns.map(toRegExp);
  const keep = (spec.keep ?? []).map(toRegExp);
  const pats = (spec.patterns ?? []).map(toRegExp);
  const frozen: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    const d = depthOf(name, L);
    const isHead = head.some((r) => r.test(name));
    let freeze = false;
    if (spec.backbone && !isHead) freeze = true;
    if (spec.embeddings && d === 0) freeze = true;
    if (spec.firstLayers !== undefined && spec.firstLayers > 0 && d <= spec.firstLayers && !isHead) freeze = true;
    if (pats.some((r) => r.test(name))) freeze = true;
    if (keep.some((r) => r.test(name))) freeze = false;
    if (freeze) {
      p.requiresGrad = false;
      p.grad = null;
      frozen.push(name);
    }
  }
  return frozen;
}

/**
 * ULMFiT's gradual unfreezing: at epoch e (0-based) only the top e+1 layer groups train — the head first, then
 * one more layer from the top each epoch, the embeddings last. Returns the names trainable this epoch.
 */
export function gradualUnfreeze(model: Module, epoch: number): string[] {
  const L = countLayers(model);
  const lowest = L + 1 - epoch; // depth of the lowest group that trains
  const trainable: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    const on = depthOf(name, L) >= lowest;
    p.requiresGrad = on;
    if (!on) p.grad = null;
    else trainable.push(name);
  }
  return trainable;
}

export interface GroupOptions {
  lr: number;
  weightDecay: number;
  /** Layer-wise learning-rate decay: depth d trains at lr · decay^(top − d). 1 = same rate everywhere. */
  layerDecay?: number;
}

/**
 * Optimizer parameter groups: weight decay on matrices only (never biases or LayerNorm weights), and with
 * layerDecay < 1 one group per depth with discriminative learning rates (Howard & Ruder; Clark et al.).
 */
export function parameterGroups(model: Module, opts: GroupOptions): ParamGroup[] {
  const decay = opts.layerDecay ?? 1;
  if (!(decay > 0 && decay <= 1)) throw new ArgumentError(`layerDecay must be in (0, 1], got ${decay}`);
  const L = countLayers(model);
  const top = L + 1;
  const groups = new Map<string, ParamGroup>();
  for (const [name, p] of model.namedParameters()) {
    const d = decay === 1 ? top : depthOf(name, L);
    const noDecay = p.rank < 2;
    const key = `${d}:${noDecay ? "no_decay" : "decay"}`;
    let g = groups.get(key);
    if (!g) {
      const lr = opts.lr * Math.pow(decay, top - d);
      g = {
        params: [] as Tensor[],
        lr,
        initialLr: lr,
        weightDecay: noDecay ? 0 : opts.weightDecay,
        name: decay === 1 ? (noDecay ? "no_decay" : "decay") : `depth${d}${noDecay ? ".no_decay" : ""}`,
      };
      groups.set(key, g);
    }
    g.params.push(p);
  }
  return [...groups.values()];
}
