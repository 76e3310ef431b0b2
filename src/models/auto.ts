/**
 * AutoConfig and AutoModel*: pick the class for a task by the config's model_type (or, for configs without one,
 * its `architectures`), as transformers' auto classes do. Loading a base checkpoint into a head class initializes
 * only the head and says so in `model.loadingInfo`; `describeLoadingInfo` words it as transformers logs it.
 */
import { ArgumentError, FormatError } from "../util/errors.js";
import { MODEL_TYPES, makeConfig, readConfig, type ConfigOf, type ModelConfig, type ModelType } from "../io/config.js";
import { resolveModelDir, type ResolveOptions } from "../io/hub.js";
import {
  fromPretrained,
  fromPretrainedDir,
  type FromPretrainedOptions,
  type ModelOptions,
  type PreTrainedModel,
  type PreTrainedModelClass,
} from "./pretrained.js";
import type { BaseModelOutput, CausalLM, ClassifierOutput, LMOutput, ModelInputs } from "./interfaces.js";
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, BertModel } from "./bert.js";
import {
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  RobertaModel,
} from "./roberta.js";
import {
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  DistilBertModel,
} from "./distilbert.js";
import { GPT2ForSequenceClassification, GPT2ForTokenClassification, GPT2LMHeadModel, GPT2Model } from "./gpt2.js";
import { GraftLstmForCausalLM, GraftLstmForSequenceClassification, GraftLstmModel } from "./lstm.js";

/** What each task's models compute, whatever the architecture. */
// (the task's forward comes first in each intersection, so calls resolve to it rather than the generic one)
export type EncoderModel = { forward(inputs: ModelInputs): BaseModelOutput } & PreTrainedModel;
export type ClassificationModel = { forward(inputs: ModelInputs): ClassifierOutput } & PreTrainedModel;
export type MaskedLMModel = { forward(inputs: ModelInputs): LMOutput } & PreTrainedModel;
export type CausalLMModel = CausalLM & PreTrainedModel;

export type Task = "base" | "sequence-classification" | "token-classification" | "masked-lm" | "causal-lm";

type Registry = Record<Task, Partial<Record<ModelType, PreTrainedModelClass>>>;

const MODELS: Registry = {
  base: {
    bert: BertModel,
    roberta: RobertaModel,
    distilbert: DistilBertModel,
    gpt2: GPT2Model,
    "graft-lstm": GraftLstmModel,
  },
  "sequence-classification": {
    bert: BertForSequenceClassification,
    roberta: RobertaForSequenceClassification,
    distilbert: DistilBertForSequenceClassification,
    gpt2: GPT2ForSequenceClassification,
    "graft-lstm": GraftLstmForSequenceClassification,
  },
  "token-classification": {
    bert: BertForTokenClassification,
    roberta: RobertaForTokenClassification,
    distilbert: DistilBertForTokenClassification,
    gpt2: GPT2ForTokenClassification,
  },
  "masked-lm": { bert: BertForMaskedLM, roberta: RobertaForMaskedLM, distilbert: DistilBertForMaskedLM },
  "causal-lm": { gpt2: GPT2LMHeadModel, "graft-lstm": GraftLstmForCausalLM },
};

/** Every model class graft has, by the name transformers gives it. */
export const MODEL_CLASSES: ReadonlyMap<string, PreTrainedModelClass> = new Map(
  Object.values(MODELS).flatMap((byType) => Object.values(byType).map((cls) => [cls!.architecture, cls!] as const)),
);

/** The class for a task and model type, or an error naming the types that have one. */
export function modelClassFor(task: Task, modelType: string, who = "AutoModel"): PreTrainedModelClass {
  const cls = MODELS[task][modelType as ModelType];
  if (cls) return cls;
  if (!(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new FormatError(
      `${who}: model_type "${modelType}" is not supported`,
      `graft knows ${MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`,
    );
  }
  const have = Object.keys(MODELS[task])
    .map((t) => `"${t}"`)
    .join(", ");
  throw new ArgumentError(`${who}: model_type "${modelType}" has no ${task} model (${task} models exist for ${have})`);
}

/** The class config.json's `architectures` names (what a saved fine-tuned model was), if graft has it. */
export function modelClassForArchitecture(config: ModelConfig): PreTrainedModelClass | null {
  for (const name of config.architectures ?? []) {
    const cls = MODEL_CLASSES.get(name);
    if (cls && cls.modelType === config.model_type) return cls;
  }
  return null;
}

export class AutoConfig {
  /** config.json of a local directory or hub model, validated, with transformers' defaults filled in. */
  static async fromPretrained(idOrPath: string, opts: ResolveOptions = {}): Promise<ModelConfig> {
    return readConfig(await resolveModelDir(idOrPath, { ...opts, want: ["config"] }));
  }

  static fromPretrainedDir(dir: string): ModelConfig {
    return readConfig(dir);
  }

  /** A complete config of a model type from its defaults and the given fields (for a model trained from scratch). */
  static forModel<T extends ModelType>(
    modelType: T,
    fields: Partial<Omit<ConfigOf<T>, "model_type">> & Record<string, unknown> = {},
  ): ConfigOf<T> {
    return makeConfig(modelType, fields);
  }
}

/** The shared machinery of the Auto classes; each subclass names its task. */
abstract class AutoModelBase {
  protected static readonly task: Task = "base";

  /** The class this Auto class uses for a model type. */
  static classFor(modelType: string): PreTrainedModelClass {
    return modelClassFor(this.task, modelType, this.name);
  }

  /** A freshly initialized model of the task's class for this config. */
  protected static build(config: ModelConfig, opts: ModelOptions = {}): PreTrainedModel {
    return new (this.classFor(config.model_type))(config as never, opts);
  }

  protected static loadDir(dir: string, opts: FromPretrainedOptions = {}): PreTrainedModel {
    return fromPretrainedDir(this.classFor(readConfig(dir).model_type), dir, opts);
  }

  protected static async load(
    idOrPath: string,
    opts: FromPretrainedOptions & ResolveOptions = {},
  ): Promise<PreTrainedModel> {
    const dir = await resolveModelDir(idOrPath, { ...opts, want: opts.want ?? ["config", "weights"] });
    return fromPretrained(this.classFor(readConfig(dir).model_type), dir, opts);
  }
}

export class AutoModel extends AutoModelBase {
  protected static override readonly task: Task = "base";
  static fromConfig(config: ModelConfig, opts?: ModelOptions): EncoderModel {
    return this.build(config, opts) as EncoderModel;
  }
  static fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): EncoderModel {
    return this.loadDir(dir, opts) as EncoderModel;
  }
  static async fromPretrained(idOrPath: string, opts?: FromPretrainedOptions & ResolveOptions): Promise<EncoderModel> {
    return (await this.load(idOrPath, opts)) as EncoderModel;
  }
}

export class AutoModelForSequenceClassification extends AutoModelBase {
  protected static override readonly task: Task = "sequence-classification";
  static fromConfig(config: ModelConfig, opts?: ModelOptions): ClassificationModel {
    return this.build(config, opts) as ClassificationModel;
  }
  static fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): ClassificationModel {
    return this.loadDir(dir, opts) as ClassificationModel;
  }
  static async fromPretrained(
    idOrPath: string,
    opts?: FromPretrainedOptions & ResolveOptions,
  ): Promise<ClassificationModel> {
    return (await this.load(idOrPath, opts)) as ClassificationModel;
  }
}

export class AutoModelForTokenClassification extends AutoModelBase {
  protected static override readonly task: Task = "token-classification";
  static fromConfig(config: ModelConfig, opts?: ModelOptions): ClassificationModel {
    return this.build(config, opts) as ClassificationModel;
  }
  static fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): ClassificationModel {
    return this.loadDir(dir, opts) as ClassificationModel;
  }
  static async fromPretrained(
    idOrPath: string,
    opts?: FromPretrainedOptions & ResolveOptions,
  ): Promise<ClassificationModel> {
    return (await this.load(idOrPath, opts)) as ClassificationModel;
  }
}

export class AutoModelForMaskedLM extends AutoModelBase {
  protected static override readonly task: Task = "masked-lm";
  static fromConfig(config: ModelConfig, opts?: ModelOptions): MaskedLMModel {
    return this.build(config, opts) as MaskedLMModel;
  }
  static fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): MaskedLMModel {
    return this.loadDir(dir, opts) as MaskedLMModel;
  }
  static async fromPretrained(idOrPath: string, opts?: FromPretrainedOptions & ResolveOptions): Promise<MaskedLMModel> {
    return (await this.load(idOrPath, opts)) as MaskedLMModel;
  }
}

export class AutoModelForCausalLM extends AutoModelBase {
  protected static override readonly task: Task = "causal-lm";
  static fromConfig(config: ModelConfig, opts?: ModelOptions): CausalLMModel {
    return this.build(config, opts) as CausalLMModel;
  }
  static fromPretrainedDir(dir: string, opts?: FromPretrainedOptions): CausalLMModel {
    return this.loadDir(dir, opts) as CausalLMModel;
  }
  static async fromPretrained(idOrPath: string, opts?: FromPretrainedOptions & ResolveOptions): Promise<CausalLMModel> {
    return (await this.load(idOrPath, opts)) as CausalLMModel;
  }
}
