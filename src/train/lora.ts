/**
 * LoRA (Hu et al. 2021): a frozen weight W plus a trainable low-rank update (α/r)·B·A, B starting at zero so the
 * adapted model starts equal to the base. Adapters are saved in PEFT's layout — `adapter_config.json` and
 * `adapter_model.safetensors` with keys `base_model.model.<path>.lora_A.weight`, and the modules trained in full
 * (the new head) as `base_model.model.<path>.<param>`, which is how PEFT writes `modules_to_save` — so a reload
 * never leaves the head randomly initialised.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { defaultRng, type Rng } from "../util/rng.js";
import { type Tensor, addScaled_, add, fill_, linear, matmul, noGrad, scale } from "../tensor/index.js";
import { Dropout, Linear, type Module, activate, toRegExp, type NamePattern } from "../nn/index.js";
import type { Activation } from "../backend/index.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors.js";

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names (last segment or full dotted path, PEFT-style) or patterns to adapt, e.g. ["query", "value"]. */
  targetModules: NamePattern[];
  /** Modules trained in full and saved with the adapter (e.g. ["classifier"]). */
  modulesToSave: string[];
}

/** A Linear whose frozen weight is shared with the base model, plus the low-rank update. */
export class LoraLinear extends Linear {
  lora_A: Linear;
  lora_B: Linear;
  lora_dropout: Dropout;
  readonly scaling: number;
  merged = false;

  constructor(
    base: Linear,
    readonly r: number,
    readonly alpha: number,
    dropout: number,
    rng: Rng = defaultRng(),
  ) {
    super(base.inFeatures, base.outFeatures, { bias: base.bias !== null, rng });
    this.weight = base.weight;
    this.bias = base.bias;
    this.lora_A = new Linear(base.inFeatures, r, { bias: false, rng }); // kaiming-uniform, as PEFT initializes A
    this.lora_B = new Linear(r, base.outFeatures, { bias: false, rng });
    fill_(this.lora_B.weight, 0);
    this.lora_dropout = new Dropout(dropout);
    this.scaling = alpha / r;
  }

  override forward(x: Tensor, act: Activation = "identity"): Tensor {
    if (this.merged) return linear(x, this.weight, this.bias, act);
    const y = linear(x, this.weight, this.bias);
    return activate(
      add(y, scale(this.lora_B.forward(this.lora_A.forward(this.lora_dropout.forward(x))), this.scaling)),
      act,
    );
  }

  /** Folds the update into W (W += (α/r)·B·A); the adapter then costs nothing at inference. */
  merge(): void {
    if (this.merged) return;
    noGrad(() => {
      const delta = matmul(this.lora_B.weight, this.lora_A.weight); // [out, r]·[r, in]
      addScaled_(this.weight, delta, this.scaling);
    });
    this.merged = true;
  }
}

function matches(name: string, targets: NamePattern[]): boolean {
  return targets.some((t) =>
    typeof t === "string" && !/[*?]/.test(t) ? name === t || name.endsWith(`.${t}`) : toRegExp(t).test(name),
  );
}

/**
 * Replaces the targeted Linear layers by LoraLinear and freezes everything except the adapters and
 * `modulesToSave`. Returns the names of the adapted modules.
 */
export function injectLora(model: Module, config: LoraConfig, rng: Rng = defaultRng()): string[] {
  if (!Number.isInteger(config.r) || config.r <= 0)
    throw new ArgumentError(`LoRA: r must be a positive integer, got ${config.r}`);
  const adapted: string[] = [];
  for (const [path, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      const replace = (child: unknown, name: string, set: (v: LoraLinear) => void) => {
        const full = path ? `${path}.${name}` : name;
        if (child instanceof Linear && !(child instanceof LoraLinear) && matches(full, config.targetModules)) {
          set(new LoraLinear(child, config.r, config.alpha, config.dropout, rng));
          adapted.push(full);
        }
      };
      if (key.startsWith("_")) continue;
      if (Array.isArray(value)) value.forEach((v, i) => replace(v, `${key}.${i}`, (l) => (value[i] = l)));
      else replace(value, key, (l) => ((m as unknown as Record<string, unknown>)[key] = l));
    }
  }
  if (adapted.length === 0)
    throw new ArgumentError(
      `LoRA: no Linear layer matches target modules ${JSON.stringify(config.targetModules.map(String))}`,
    );
  for (const [name, p] of model.namedParameters()) {
    p.requiresGrad =
      /\.lora_[AB]\.weight$/.test(name) ||
      config.modulesToSave.some((s) => name === s || name.startsWith(`${s}.`) || name.includes(`.${s}.`));
    if (!p.requiresGrad) p.grad = null;
  }
  return adapted;
}

/** Merges every adapter into its base weight. */
export function mergeLora(model: Module): number {
  let n = 0;
  for (const [, m] of model.namedModules())
    if (m instanceof LoraLinear && !m.merged) {
      m.merge();
      n++;
    }
  return n;
}

/** The base model's state dict without adapter weights (names as the original model). */
export function baseStateDict(model: Module): Map<string, Tensor> {
  return new Map([...model.stateDict()].filter(([n]) => !/\.lora_[AB]\.weight$/.test(n)));
}

const PREFIX = "base_model.model.";

export function saveLoraAdapter(
  model: Module,
  dir: string,
  config: LoraConfig,
  meta: { baseModel?: string; taskType?: string } = {},
): void {
  const tensors = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) {
    const isAdapter = /\.lora_[AB]\.weight$/.test(name);
    const isSaved = config.modulesToSave.some((s) => name.startsWith(`${s}.`) || name.includes(`.${s}.`));
    if (isAdapter || isSaved) tensors.set(PREFIX + name, p);
  }
  saveSafetensors(join(dir, "adapter_model.safetensors"), tensors);
  writeJsonAtomic(join(dir, "adapter_config.json"), {
    peft_type: "LORA",
    task_type: meta.taskType ?? null,
    base_model_name_or_path: meta.baseModel ?? null,
    r: config.r,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    target_modules: config.targetModules.map((t) => (typeof t === "string" ? t : t.source)),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
  });
}

export function readLoraConfig(dir: string): LoraConfig {
  const p = join(dir, "adapter_config.json");
  if (!existsSync(p)) throw new FormatError(`${dir} holds no LoRA adapter (adapter_config.json is missing)`);
  const c = JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
  if (c.peft_type !== "LORA")
    throw new FormatError(`${p}: peft_type is ${JSON.stringify(c.peft_type)}; only LORA adapters are supported`);
  return {
    r: Number(c.r),
    alpha: Number(c.lora_alpha),
    dropout: Number(c.lora_dropout ?? 0),
    targetModules: Array.isArray(c.target_modules) ? (c.target_modules as string[]) : [String(c.target_modules)],
    modulesToSave: Array.isArray(c.modules_to_save) ? (c.modules_to_save as string[]) : [],
  };
}

/**
 * The weights a merged model would have, without touching the model: W + (α/r)·B·A for adapted layers, adapter
 * tensors left out — what savePretrained of the merged model writes.
 */
export function mergedStateDict(model: Module): Map<string, Tensor> {
  const out = baseStateDict(model);
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof LoraLinear) || m.merged) continue;
    const w = noGrad(() => matmul(m.lora_B.weight, m.lora_A.weight));
    out.set(`${path}.weight`, addScaled_(m.weight.clone(), w, m.scaling));
  }
  return out;
}

/** Injects the adapter described in `dir` into a base model and loads its weights (and the saved head). */
export function loadLoraAdapter(model: Module, dir: string): LoraConfig {
  const config = readLoraConfig(dir);
  injectLora(model, config);
  loadLoraWeights(model, dir);
  return config;
}

/** Loads adapter (and modules_to_save) weights from `dir` into a model that already has the adapters injected. */
export function loadLoraWeights(model: Module, dir: string): void {
  const saved = loadSafetensors(join(dir, "adapter_model.safetensors"));
  const renamed = new Map<string, Tensor>();
  for (const [k, v] of saved) {
    if (!k.startsWith(PREFIX))
      throw new FormatError(`${dir}/adapter_model.safetensors: key "${k}" lacks the "${PREFIX}" prefix`);
    renamed.set(k.slice(PREFIX.length), v);
  }
  const { unexpectedKeys } = model.loadStateDict(renamed, { strict: false });
  if (unexpectedKeys.length)
    throw new FormatError(`${dir}: adapter weights match no module of the model: ${unexpectedKeys.join(", ")}`);
}
