/** The training arguments of the data-parallel tests (per rank), shared by mpi.test.ts and mpi-worker.ts. */
import type { TrainingArgs } from "../../src/train/index.js";

export const PER_RANK = 4;

/**
 * SGD: Adam divides by the gradient's running magnitude, which turns fp32 summation noise on a gradient that is
 * zero in exact arithmetic (an attention key's bias) into whole steps, so only SGD's weights compare across rank counts.
 */
export const MPI_ARGS: Partial<TrainingArgs> = {
  optimizer: "sgd",
  batchSize: PER_RANK,
  gradAccumSteps: 2,
  maxSteps: 4,
  lr: 0.1,
  warmupSteps: 1,
  saveEvery: 1,
  logEvery: 1,
  seed: 7,
};
