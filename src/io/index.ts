/** The io layer's public surface: safetensors, checkpoints (incl. shards), config.json, and the hub cache. */
export {
  loadSafetensors, saveSafetensors, serializeSafetensors, parseSafetensors, readSafetensorsHeader, SafetensorsFile, MAX_HEADER_BYTES,
  type TensorInfo, type SafetensorsHeader, type SaveOptions, type TensorMap,
} from "./safetensors.js";
export { type SafeDType, f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from "./dtypes.js";
export {
  loadCheckpoint, saveCheckpoint, loadShardedSafetensors, readShardIndex, findWeights, WEIGHTS_NAME, WEIGHTS_INDEX_NAME,
  type ShardIndex, type SaveCheckpointOptions,
} from "./checkpoint.js";
export {
  readConfig, writeConfig, parseConfig, makeConfig, configToJson, withLabels, numLabels, MODEL_TYPES, CONFIG_NAME,
  type ModelConfig, type ModelType, type ConfigOf, type BaseConfig, type BertConfig, type RobertaConfig, type DistilBertConfig,
  type Gpt2Config, type GraftLstmConfig, type ProblemType,
} from "./config.js";
export { resolveModelDir, downloadModel, hubFile, DEFAULT_ENDPOINT, type HubOptions, type ResolveOptions, type Progress, type FileGroup } from "./hub.js";
