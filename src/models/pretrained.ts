/**
 * What every pretrained model shares: its config, Hugging Face's weight initialization, and moving weights between
 * a model and a model directory the way transformers' `from_pretrained` / `save_pretrained` do.
 *
 * Loading (loadPretrainedWeights) follows modeling_utils + core_model_loading:
 *   1. legacy names are renamed (`LayerNorm.gamma` → `.weight`, `.beta` → `.bias`, as old TF-converted BERTs carry);
 *   2. buffers older checkpoints saved (`embeddings.position_ids`, GPT-2's `attn.bias` / `attn.masked_bias`) are dropped;
 *   3. the base-model prefix (`bert.`, `roberta.`, `distilbert.`, `transformer.`) is added or stripped key by key, so a
 *      base checkpoint loads into a model with a head and a head checkpoint into a base model;
 *   4. every shape mismatch is reported at once with both shapes (or, with ignoreMismatchedSizes, re-initialized);
 *   5. weights the checkpoint lacks are initialized as transformers' `_init_weights` does and reported as newly
 *      initialized — but only head weights: a backbone weight (embeddings, layers) missing means the checkpoint is
 *      incomplete or of another architecture, and loading fails naming it;
 *   6. checkpoint weights the model has no use for (an NSP head, a pooler a token classifier lacks) are reported unused.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, FormatError, fmtShape } from "../util/errors.js";
import { defaultRng, type Rng } from "../util/rng.js";
import { type Tensor, copy_, fill_ } from "../tensor/index.js";
import { Embedding, LayerNorm, Linear, Module, type Parameter, init } from "../nn/index.js";
import {
  buildConfig,
  numLabels,
  readConfigJson,
  withLabels,
  writeConfigJson,
  type BaseConfig,
  type ConfigSchema,
  type Fail,
  type ProblemType,
} from "../io/config.js";
import { type GenerationConfig, readGenerationConfig, writeGenerationConfig } from "./generation/config.js";
import { resolveModelDir, type ResolveOptions } from "../io/hub.js";
import { WEIGHTS_NAME, findWeights, loadShardedSafetensors, saveCheckpoint } from "../io/checkpoint.js";
import { SafetensorsFile } from "../io/safetensors.js";
import { QUANTIZATION_KEY, loadQuantizedLayers, parseQuantizationConfig } from "./quantized.js";
import type { ModelInputs } from "./interfaces.js";

export interface ModelOptions {
  /** Drives initialization and dropout (default: the process-wide generator). */
  rng?: Rng;
  /**
   * Apply transformers' initialization on construction (default true). Loading turns it off and initializes only
   * what the checkpoint lacks; a head model turns it off for the base model it wraps and initializes everything once.
   */
  initWeights?: boolean;
}

/** The static side of a model class: what Auto* and the loader need before an instance exists. */
export interface PreTrainedModelClass<M extends PreTrainedModel = PreTrainedModel> {
  new (config: never, opts?: ModelOptions): M;
  /** The class name transformers uses, written to config.json's `architectures`. */
  readonly architecture: string;
  /** The config it reads (its architecture's schema). */
  readonly configSchema: ConfigSchema;
  /** The config's model_type (from configSchema). */
  readonly modelType: string;
  /** The attribute holding the base model in models with a head ("" when names are flat). */
  readonly baseModelPrefix: string;
}

export abstract class PreTrainedModel<C extends BaseConfig = BaseConfig> extends Module {
  /** What the last loadPretrainedWeights reported (null for a model built from scratch). */
  loadingInfo: LoadingInfo | null = null;
  /** generation_config.json: the defaults of generate() (read by fromPretrainedDir, written by savePretrained). */
  generationConfig: GenerationConfig | null = null;

  constructor(public config: C) {
    super();
  }

  static get modelType(): string {
    return (this as unknown as PreTrainedModelClass).configSchema.modelType;
  }

  /** Builds this class from a local directory or a hub id (see fromPretrained below). */
  static fromPretrained<M extends PreTrainedModel>(
    this: PreTrainedModelClass<M>,
    idOrPath: string,
    opts: FromPretrainedOptions & ResolveOptions = {},
  ): Promise<M> {
    return fromPretrained(this, idOrPath, opts);
  }

  /** Builds this class from a local model directory, synchronously. */
  static fromPretrainedDir<M extends PreTrainedModel>(
    this: PreTrainedModelClass<M>,
    dir: string,
    opts: FromPretrainedOptions = {},
  ): M {
    return fromPretrainedDir(this, dir, opts);
  }

  /** Writes config.json + model.safetensors (+ the tokenizer's files) into dir; see savePretrained below. */
  savePretrained(dir: string, opts: SavePretrainedOptions = {}): string[] {
    return savePretrained(this, dir, opts);
  }

  get architecture(): string {
    return (this.constructor as PreTrainedModelClass).architecture;
  }

  get baseModelPrefix(): string {
    return (this.constructor as PreTrainedModelClass).baseModelPrefix;
  }

  /** Runs the model on a batch; each class documents its inputs and outputs. */
  abstract forward(inputs: ModelInputs): unknown;

  /** Top-level modules of the backbone every checkpoint must provide (under the base prefix, if any). */
  protected abstract readonly coreModules: readonly string[];

  /** Checkpoint keys transformers ignores on load (stale buffers). */
  protected get ignoredKeys(): readonly RegExp[] {
    return [];
  }

  /** Whether a parameter belongs to the backbone (must come from the checkpoint) rather than a head or pooler. */
  isCoreWeight(name: string): boolean {
    const prefix = this.baseModelPrefix;
    const rest = prefix && name.startsWith(`${prefix}.`) ? name.slice(prefix.length + 1) : name;
    return this.coreModules.some((m) => rest.startsWith(`${m}.`));
  }

  /**
   * Initializes weights as transformers' `_init_weights` does: Linear and Embedding N(0, initializer_range) with
   * zero bias and a zero padding row, LayerNorm ones and zeros, plus each architecture's specifics (initModule).
   * `only` limits it to the modules it accepts (loading initializes just the modules with missing weights).
   * A parameter shared by two modules (tied weights) is initialized once, by the first module that holds it.
   */
  initWeights(rng: Rng = defaultRng(), only?: (m: Module) => boolean): void {
    const done = new Set<Parameter>();
    const fresh = (p: Parameter | null): p is Parameter => {
      if (!p || done.has(p)) return false;
      done.add(p);
      return true;
    };
    for (const [name, m] of this.namedModules()) {
      if (only && !only(m)) continue;
      this.initModule(name, m, rng, fresh);
    }
  }

  /** The per-module rule of initWeights; architectures extend it and call super for the common layers. */
  protected initModule(name: string, m: Module, rng: Rng, fresh: (p: Parameter | null) => p is Parameter): void {
    const std = this.initializerRange;
    if (m instanceof Linear) {
      if (fresh(m.weight)) init.normal_(m.weight, std, rng);
      if (fresh(m.bias)) init.constant_(m.bias, 0);
    } else if (m instanceof Embedding) {
      if (fresh(m.weight)) {
        init.normal_(m.weight, std, rng);
        const pad = this.paddingIdxOf(name);
        if (pad !== null && pad >= 0 && pad < m.numEmbeddings)
          fill_(m.weight, 0, pad * m.embeddingDim, (pad + 1) * m.embeddingDim);
      }
    } else if (m instanceof LayerNorm) {
      if (fresh(m.weight)) init.constant_(m.weight, 1);
      if (fresh(m.bias)) init.constant_(m.bias, 0);
    }
  }

  protected get initializerRange(): number {
    const r = (this.config as { initializer_range?: unknown }).initializer_range;
    return typeof r === "number" && r > 0 ? r : 0.02;
  }

  /** The padding row of the embedding at this module path (nn.Embedding's padding_idx in transformers), if any. */
  protected paddingIdxOf(_moduleName: string): number | null {
    return null;
  }

  /** Whether transformers would ignore this checkpoint key (a stale buffer); such tensors need not even be read. */
  isIgnoredKey(key: string): boolean {
    return this.ignoredKeys.some((re) => re.test(key));
  }

  /**
   * Called with a checkpoint's tensors before they are loaded: a model whose structure depends on what the file
   * holds adapts here (T5 unties its LM head when the file holds its own lm_head.weight). Default: nothing.
   */
  prepareToLoad(_tensors: ReadonlyMap<string, Tensor>): void {}

  /** The model name a checkpoint tensor loads into, after legacy renames and prefix fixing; null to drop it. */
  checkpointKey(key: string, own: ReadonlySet<string>): string | null {
    if (this.isIgnoredKey(key)) return null;
    let k = key.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
    if (own.has(k)) return k;
    const prefix = this.baseModelPrefix;
    if (prefix) {
      if (k.startsWith(`${prefix}.`) && own.has(k.slice(prefix.length + 1))) k = k.slice(prefix.length + 1);
      else if (own.has(`${prefix}.${k}`)) k = `${prefix}.${k}`;
    }
    return k;
  }
}

// ---- loading

export interface LoadingInfo {
  /** Model weights the checkpoint did not provide (or provided with another shape), now freshly initialized. */
  missingKeys: string[];
  /** Checkpoint weights the model does not use. */
  unexpectedKeys: string[];
  /** Weights whose checkpoint shape differed, re-initialized because ignoreMismatchedSizes was set. */
  mismatchedKeys: { name: string; checkpoint: number[]; model: number[] }[];
  /** Stale buffers transformers ignores too (position_ids, GPT-2's causal-mask buffers). */
  ignoredKeys: string[];
}

export interface LoadWeightsOptions extends ModelOptions {
  /** Re-initialize weights whose shape differs (a classifier with another number of labels) instead of failing. */
  ignoreMismatchedSizes?: boolean;
}

/**
 * Loads checkpoint tensors into a model as from_pretrained does (see the file comment); `where` names the
 * checkpoint in errors. Returns what was newly initialized, unused, mismatched and ignored.
 */
export function loadPretrainedWeights(
  model: PreTrainedModel,
  tensors: Map<string, Tensor>,
  where: string,
  opts: LoadWeightsOptions = {},
): LoadingInfo {
  model.prepareToLoad(tensors);
  const all = model.namedParameters({ removeDuplicate: false });
  const byName = new Map(all);
  const own = new Set(byName.keys());
  const ignoredKeys: string[] = [];
  const unexpectedKeys: string[] = [];
  const mismatchedKeys: LoadingInfo["mismatchedKeys"] = [];
  const loads: [Parameter, Tensor, string][] = [];
  const seen = new Map<string, string>();
  for (const [key, t] of tensors) {
    const name = model.checkpointKey(key, own);
    if (name === null) {
      ignoredKeys.push(key);
      continue;
    }
    const p = byName.get(name);
    if (!p) {
      unexpectedKeys.push(key);
      continue;
    }
    const earlier = seen.get(name);
    if (earlier !== undefined)
      throw new FormatError(
        `${where}: "${key}" and "${earlier}" both load into ${name}`,
        "the checkpoint holds the same weight under two names (with and without the base-model prefix?)",
      );
    seen.set(name, key);
    if (t.dtype !== "f32")
      throw new FormatError(
        `${where}: "${key}" holds integers (${t.dtype}${fmtShape(t.shape)}) but ${model.architecture}.${name} is a float weight`,
      );
    if (t.rank !== p.rank || t.shape.some((d, i) => d !== p.shape[i])) {
      mismatchedKeys.push({ name, checkpoint: [...t.shape], model: [...p.shape] });
      continue;
    }
    loads.push([p, t, name]);
  }
  if (mismatchedKeys.length > 0 && !opts.ignoreMismatchedSizes) {
    const lines = mismatchedKeys.map(
      (m) => `${m.name}: checkpoint ${fmtShape(m.checkpoint)}, model ${fmtShape(m.model)}`,
    );
    throw new FormatError(
      `${where}: ${mismatchedKeys.length} weight(s) have another shape than ${model.architecture} (${model.config.model_type}) expects:\n  ${lines.join("\n  ")}`,
      mismatchedKeys.every((m) => !model.isCoreWeight(m.name))
        ? "only head weights differ (another number of labels?): pass ignoreMismatchedSizes to re-initialize them"
        : "the checkpoint was trained with another config (hidden size, vocabulary, positions): check config.json against the weights",
    );
  }
  const loaded = new Set(loads.map(([p]) => p));
  const missing = model.namedParameters().filter(([, p]) => !loaded.has(p));
  const missingCore = missing.filter(([n]) => model.isCoreWeight(n)).map(([n]) => n);
  if (missingCore.length > 0) {
    const shown =
      missingCore.slice(0, 8).join(", ") + (missingCore.length > 8 ? `, ... (${missingCore.length - 8} more)` : "");
    throw new FormatError(
      `${where}: ${missingCore.length} weight(s) of ${model.architecture} are missing from the checkpoint: ${shown}`,
      `these belong to the backbone and cannot be newly initialized; the checkpoint is incomplete or not a ${model.config.model_type} model` +
        (unexpectedKeys.length ? ` (it has unused names such as "${unexpectedKeys[0]}")` : ""),
    );
  }
  // Initialize what the checkpoint lacks first, then copy the checkpoint over: a module with some weights loaded
  // (a decoder whose bias is tied to a loaded bias) keeps them.
  const missingParams = new Set(missing.map(([, p]) => p));
  if (missingParams.size > 0) {
    const ownsMissing = (m: Module) =>
      m.namedParameters({ removeDuplicate: false }).some(([n, p]) => !n.includes(".") && missingParams.has(p));
    model.initWeights(opts.rng ?? defaultRng(), ownsMissing);
  }
  for (const [p, t] of loads) copy_(p, t);
  const info: LoadingInfo = { missingKeys: missing.map(([n]) => n), unexpectedKeys, mismatchedKeys, ignoredKeys };
  model.loadingInfo = info;
  return info;
}

/** The tensors of a model directory's weights (model.safetensors or its shards); names `skip` accepts are not read. */
export function readModelWeights(
  dir: string,
  skip: (name: string) => boolean = () => false,
  opts: { allowNonFinite?: boolean } = {},
): { tensors: Map<string, Tensor>; skipped: string[]; where: string } {
  const w = findWeights(dir);
  const skipped: string[] = [];
  // a weight holding NaN or Infinity is refused with its name, unless asked for (inspecting a diverged run)
  const read = { checkFinite: !opts.allowNonFinite };
  if (w.kind === "sharded") {
    const tensors = loadShardedSafetensors(w.index, read);
    for (const k of [...tensors.keys()]) {
      if (skip(k)) {
        tensors.delete(k);
        skipped.push(k);
      }
    }
    return { tensors, skipped, where: w.index };
  }
  const f = SafetensorsFile.open(w.file);
  try {
    const tensors = new Map<string, Tensor>();
    for (const name of f.names) {
      if (skip(name)) skipped.push(name);
      else tensors.set(name, f.get(name, read));
    }
    return { tensors, skipped, where: w.file };
  } finally {
    f.close();
  }
}

export interface FromPretrainedOptions extends LoadWeightsOptions {
  /** Number of labels of a classification head (generic LABEL_i names unless the config has as many). */
  numLabels?: number;
  /** Label names of a classification head, in class order. */
  labels?: readonly string[];
  /** How a sequence classifier's loss is computed (default: inferred from the labels, as transformers does). */
  problemType?: ProblemType;
  /** Config fields to override (hidden_dropout_prob, ...), validated like config.json. */
  config?: Record<string, unknown>;
  /**
   * Load weights holding NaN or Infinity (default false: such a checkpoint is refused naming the tensor, the count
   * and the first bad index), to inspect a diverged or corrupted checkpoint.
   */
  allowNonFinite?: boolean;
}

/** A config validated by a schema, errors naming `where` (a file, or what the config is). */
function checkedConfig(schema: ConfigSchema, raw: Record<string, unknown>, where: string): BaseConfig {
  const fail: Fail = (msg, hint) => {
    throw new FormatError(`${where}: ${msg}`, hint);
  };
  return buildConfig({ ...raw }, schema, fail);
}

/** The config of `dir` with the overrides of `opts` applied, checked against the class that will use it. */
export function configFor(
  cls: PreTrainedModelClass,
  config: Record<string, unknown>,
  opts: FromPretrainedOptions,
  where: string,
): BaseConfig {
  // a config without model_type is read as the class's (Auto classes have picked the class by `architectures`)
  if (config.model_type !== undefined && config.model_type !== cls.modelType) {
    throw new FormatError(
      `${where}: model_type is "${config.model_type}" but ${cls.architecture} is a ${cls.modelType} model`,
      `load it with a ${config.model_type} class, or with an Auto class that picks by model_type`,
    );
  }
  let c = checkedConfig(cls.configSchema, config, where);
  if (opts.config)
    c = checkedConfig(
      cls.configSchema,
      { ...c, ...opts.config },
      `${where} (with overrides ${Object.keys(opts.config).join(", ")})`,
    );
  if (opts.labels && opts.numLabels !== undefined && opts.labels.length !== opts.numLabels) {
    throw new ArgumentError(
      `${cls.architecture}: ${opts.labels.length} label names given but numLabels is ${opts.numLabels}`,
    );
  }
  if (opts.labels) c = withLabels(c, opts.labels);
  else if (opts.numLabels !== undefined) {
    if (!Number.isInteger(opts.numLabels) || opts.numLabels < 1)
      throw new ArgumentError(`${cls.architecture}: numLabels must be a positive integer, got ${opts.numLabels}`);
    if (numLabels(c) !== opts.numLabels) c = withLabels(c, opts.numLabels);
  }
  if (opts.problemType) c = { ...c, problem_type: opts.problemType };
  return c;
}

/**
 * Builds `cls` from a local model directory: config.json (with overrides), then the weights as loadPretrainedWeights
 * loads them. The model is returned in eval mode, as transformers returns it; `loadingInfo` says what was newly
 * initialized and what went unused.
 */
export function fromPretrainedDir<M extends PreTrainedModel>(
  cls: PreTrainedModelClass<M>,
  dir: string,
  opts: FromPretrainedOptions = {},
): M {
  const { json, path } = readConfigJson(dir);
  const config = configFor(cls, json, opts, path);
  // the checkpoint overwrites every weight it has; what it lacks, loadPretrainedWeights initializes
  const model = init.skipInit(() => new cls(config as never, { rng: opts.rng, initWeights: false }));
  const { tensors, skipped, where } = readModelWeights(dir, (name) => model.isIgnoredKey(name), {
    allowNonFinite: opts.allowNonFinite,
  });
  // an int8 directory (graft quantize): its Linear layers become int8 layers before the fp32 weights load
  if (json[QUANTIZATION_KEY] !== undefined)
    loadQuantizedLayers(model, parseQuantizationConfig(json[QUANTIZATION_KEY], path), tensors, where);
  const info = loadPretrainedWeights(model, tensors, where, opts);
  info.ignoredKeys.push(...skipped);
  model.generationConfig = readGenerationConfig(dir);
  model.eval();
  return model;
}

/** fromPretrainedDir for a local directory or a hub id (downloaded into the cache first). */
export async function fromPretrained<M extends PreTrainedModel>(
  cls: PreTrainedModelClass<M>,
  idOrPath: string,
  opts: FromPretrainedOptions & ResolveOptions = {},
): Promise<M> {
  const dir = await resolveModelDir(idOrPath, { ...opts, want: opts.want ?? ["config", "weights"] });
  return fromPretrainedDir(cls, dir, opts);
}

/** Lines in the words transformers logs after loading, for a command to print. */
export function describeLoadingInfo(info: LoadingInfo, architecture: string, where: string): string[] {
  const out: string[] = [];
  if (info.unexpectedKeys.length)
    out.push(
      `Some weights of the checkpoint at ${where} were not used when initializing ${architecture}: ${info.unexpectedKeys.join(", ")}`,
    );
  const fresh = info.missingKeys.filter((k) => !info.mismatchedKeys.some((m) => m.name === k));
  if (fresh.length)
    out.push(
      `Some weights of ${architecture} were not initialized from the checkpoint at ${where} and are newly initialized: ${fresh.join(", ")}`,
    );
  if (info.mismatchedKeys.length) {
    out.push(
      `Some weights of ${architecture} were not initialized from the checkpoint at ${where} and are newly initialized because the shapes did not match: ` +
        info.mismatchedKeys
          .map((m) => `${m.name}: found ${fmtShape(m.checkpoint)}, expected ${fmtShape(m.model)}`)
          .join(", "),
    );
  }
  if (fresh.length || info.mismatchedKeys.length)
    out.push(
      "You should probably train this model on a down-stream task to be able to use it for predictions and inference.",
    );
  return out;
}

// ---- saving

/** Anything that writes its own files into a model directory (a tokenizer); models/ does not import tokenizers/. */
export type SavesPretrained = { save(dir: string): unknown } | { savePretrained(dir: string): unknown };

export interface SavePretrainedOptions {
  /** Tokenizer (or anything with savePretrained(dir)) to save beside the model. */
  tokenizer?: SavesPretrained | null;
  /** Split the weights into shards of at most this many bytes, as transformers' max_shard_size. */
  maxShardBytes?: number;
}

/**
 * Writes `config.json` (with `architectures` naming this class) and `model.safetensors` (Hugging Face's names and
 * shapes, contiguous little-endian f32, tied weights once as transformers saves them) so that transformers'
 * from_pretrained loads the directory. Returns the files written.
 */
export function savePretrained(model: PreTrainedModel, dir: string, opts: SavePretrainedOptions = {}): string[] {
  if (typeof dir !== "string" || dir === "") throw new ArgumentError("savePretrained: a directory is needed");
  mkdirSync(dir, { recursive: true });
  const cls = model.constructor as PreTrainedModelClass;
  const config = checkedConfig(
    cls.configSchema,
    { ...model.config, architectures: [model.architecture] },
    `${model.config.model_type} config`,
  );
  const files = [writeConfigJson(dir, config, cls.configSchema)];
  const weights = saveCheckpoint(dir, model.stateDict(), { maxShardBytes: opts.maxShardBytes });
  files.push(...weights.map((f) => join(dir, f)));
  if (model.generationConfig) files.push(writeGenerationConfig(dir, model.generationConfig));
  const tok = opts.tokenizer;
  if (tok) {
    if ("savePretrained" in tok) tok.savePretrained(dir);
    else tok.save(dir);
  }
  return files;
}

export { WEIGHTS_NAME };
