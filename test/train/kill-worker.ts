/** Child process for the kill-and-resume test: trains the toy model, checkpointing every step. */
import { Trainer } from "../../src/train/index.js";
import { makeData, makeModel, task } from "./toy.js";
import { KILL_ARGS } from "./kill-args.js";

const runDir = process.argv[2];
const data = makeData(48, 9);
await new Trainer({ model: makeModel(4), args: KILL_ARGS, trainSize: 48, ...task(data), runDir }).train({
  resume: process.argv[3] === "resume",
});
