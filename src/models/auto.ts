/**
 * AutoConfig and AutoModel*: pick the class for a head by the config's model_type (or, for configs without one,
 * its `architectures`) from the registry, as transformers' auto classes do. One implementation serves every head;
 * each Auto class only names its head. Loading a base checkpoint into a head class initializes only the head and
 * says so in `model.loadingInfo`; `describeLoadingInfo` words it as transformers logs it.
 */
import { resolveModelDir, type ResolveOptions } from "../io/hub.js";
import type { BaseConfig } from "../io/config.js";
import {
  fromPretrained,
  fromPretrainedDir,
  type FromPretrainedOptions,
  type ModelOptions,
  type PreTrainedModel,
  type PreTrainedModelClass,
} from "./pretrained.js";
import type { BaseModelOutput, CausalLM, ClassifierOutput, LMOutput, ModelInputs } from "./interfaces.js";
import type { Seq2SeqLM } from "./seq2seq.js";
import type { Head } from "./architecture.js";
import { type ConfigOf, type ModelConfig, type ModelType, makeConfig, modelClassFor, readConfig } from "./registry.js";

/** What each head's models compute, whatever the architecture. */
// (the head's forward comes first in each intersection, so calls resolve to it rather than the generic one)
export type EncoderModel = { forward(inputs: ModelInputs): BaseModelOutput } & PreTrainedModel<ModelConfig>;
export type ClassificationModel = { forward(inputs: ModelInputs): ClassifierOutput } & PreTrainedModel<ModelConfig>;
export type MaskedLMModel = { forward(inputs: ModelInputs): LMOutput } & PreTrainedModel<ModelConfig>;
export type CausalLMModel = CausalLM & PreTrainedModel<ModelConfig>;
export type Seq2SeqLMModel = Seq2SeqLM & PreTrainedModel<ModelConfig>;

/** A head, by the name the Auto classes were first written with. */
export type Task = Head;

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
    fields?: Partial<Omit<ConfigOf<T>, "model_type">> & Record<string, unknown>,
  ): ConfigOf<T>;
  /** The same for an architecture registered at run time (registerArchitecture). */
  static forModel(modelType: string, fields?: Record<string, unknown>): BaseConfig;
  static forModel(modelType: string, fields: Record<string, unknown> = {}): BaseConfig {
    return makeConfig(modelType, fields);
  }
}

/** The Auto class of a head: builds or loads the head's class for a config's model_type. */
function autoModelFor<M>(head: Head) {
  return class {
    static readonly head: Head = head;

    /** The class this Auto class uses for a model type. */
    static classFor(modelType: string): PreTrainedModelClass {
      return modelClassFor(head, modelType, this.name);
    }

    /** A freshly initialized model of the head's class for this config. */
    static fromConfig(config: BaseConfig, opts: ModelOptions = {}): M {
      return new (this.classFor(config.model_type))(config as never, opts) as M;
    }

    static fromPretrainedDir(dir: string, opts: FromPretrainedOptions = {}): M {
      return fromPretrainedDir(this.classFor(readConfig(dir).model_type), dir, opts) as M;
    }

    static async fromPretrained(idOrPath: string, opts: FromPretrainedOptions & ResolveOptions = {}): Promise<M> {
      const dir = await resolveModelDir(idOrPath, { ...opts, want: opts.want ?? ["config", "weights"] });
      return fromPretrained(this.classFor(readConfig(dir).model_type), dir, opts) as M;
    }
  };
}

export class AutoModel extends autoModelFor<EncoderModel>("base") {}
export class AutoModelForMaskedLM extends autoModelFor<MaskedLMModel>("masked-lm") {}
export class AutoModelForCausalLM extends autoModelFor<CausalLMModel>("causal-lm") {}
export class AutoModelForSeq2SeqLM extends autoModelFor<Seq2SeqLMModel>("seq2seq-lm") {}
export class AutoModelForSequenceClassification extends autoModelFor<ClassificationModel>("sequence-classification") {}
export class AutoModelForTokenClassification extends autoModelFor<ClassificationModel>("token-classification") {}
