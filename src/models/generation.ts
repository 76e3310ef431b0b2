/**
 * Text generation (greedy, sampling, beam search; decoders and encoder-decoders), token streaming and
 * generation_config.json: the pieces live in ./generation/, this module is their public face.
 */
export {
  generate,
  decodeSteps,
  type GenerateOptions,
  type GenerateOutput,
  type GenerativeModel,
  type Prompts,
  type StepEvent,
} from "./generation/search.js";
export {
  applyTemperature,
  applyTopK,
  applyTopP,
  applyMinP,
  applyRepetitionPenalty,
  applyNoRepeatNgram,
} from "./generation/processors.js";
export { generateStream, type StreamOptions, type StreamChunk } from "./generation/stream.js";
export { ContinuousBatcher, type ContinuousOptions, type ContinuousStats } from "./generation/continuous.js";
export {
  GENERATION_CONFIG_NAME,
  type GenerationConfig,
  parseGenerationConfig,
  readGenerationConfig,
  writeGenerationConfig,
  optionsFromGenerationConfig,
  generationConfigFromOptions,
} from "./generation/config.js";
