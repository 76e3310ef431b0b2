/** The optim layer's public surface. */
export {
  Optimizer,
  Adam,
  AdamW,
  SGD,
  clipGradNorm,
  type ParamGroup,
  type ParamsArg,
  type OptimizerState,
  type AdamOptions,
  type SgdOptions,
} from "./optimizer.js";
export {
  LRScheduler,
  constant,
  linearWarmupDecay,
  cosine,
  slantedTriangular,
  oneCycle,
  type Schedule,
} from "./schedule.js";
