import type { TrainingArgs } from "../../src/train/index.js";

/** Shared by the kill-and-resume test and its child process. */
export const KILL_ARGS: Partial<TrainingArgs> = {
  epochs: 20,
  batchSize: 5,
  gradAccumSteps: 2,
  lr: 0.03,
  logEvery: 1,
  saveEvery: 1,
  saveTotalLimit: 2,
  seed: 3,
  warmupRatio: 0.1,
};
