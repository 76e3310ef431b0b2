/** `graft multitask`: several task heads trained on one shared encoder (src/tasks/multitask.ts), from a config file. */
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { isObject, opt, switchesOnly } from "../util/options.js";
import { readConfigFile } from "../tune/config.js";
import { TASK_SAMPLINGS, multitaskFinetune, type MultitaskConfig } from "../tasks/multitask.js";
import { addOptions, resolveFlags } from "./options.js";

/** Flags; each given one overrides the config file's key of the same name. */
export const MULTITASK_SWITCHES = switchesOnly({
  config: opt.string({
    required: true,
    flag: "--config <file>",
    help: "multi-task configuration (JSON or YAML): model, tasks, steps, sampling, ...",
  }),
  model: opt.string({ flag: "--model <dir|id>", help: "pre-trained encoder shared by the tasks" }),
  output: opt.string({ flag: "--output <dir>", help: "model directory to write (encoder, heads/, multitask.json)" }),
  steps: opt.integer({ min: 1, help: "optimizer steps in all (each trains one task on one batch)" }),
  sampling: opt.enum([...TASK_SAMPLINGS], {
    flag: "--sampling <how>",
    help: "which task each step trains: round-robin, proportional (to size) or temperature (p ∝ n^(1/T))",
    defaultHelp: "temperature",
  }),
  temperature: opt.number({ gt: 0, flag: "--temperature <t>", help: "T of temperature sampling", defaultHelp: "2" }),
  lr: opt.number({ gt: 0, help: "peak learning rate", defaultHelp: "5e-5" }),
  batchSize: opt.integer({ min: 1, help: "examples per step", defaultHelp: "16" }),
  seed: opt.integer({ help: "seed of initialization, dropout, data order and task draws", defaultHelp: "42" }),
  json: opt.boolean({ help: "print JSON" }),
});

const KEYS = [
  "model",
  "tasks",
  "output",
  "steps",
  "sampling",
  "temperature",
  "batchSize",
  "lr",
  "weightDecay",
  "warmupRatio",
  "maxGradNorm",
  "seed",
  "logEvery",
];

export function register(program: Command): void {
  const cmd = program
    .command("multitask")
    .description("train several task heads (classification, regression, NER) on one shared encoder");
  addOptions(cmd, MULTITASK_SWITCHES)
    .addHelpText(
      "after",
      `
Example:
  graft multitask --config multitask.json --output runs/mt
  graft predict --model runs/mt --task sentiment --text "a fine film"
  graft eval --model runs/mt --task ner --data test.conll

multitask.json:
  { "model": "models/graft-base", "steps": 600, "sampling": "temperature", "temperature": 2,
    "tasks": [ { "name": "sentiment", "task": "classification", "data": "sst2.csv", "weight": 1 },
               { "name": "ner", "task": "ner", "data": "train.conll", "validation": "valid.conll" } ] }
`,
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(MULTITASK_SWITCHES, command);
      const raw = readConfigFile(f.config);
      for (const k of Object.keys(raw))
        if (!KEYS.includes(k))
          throw new ArgumentError(`${f.config}: unknown key "${k}"`, `known keys: ${KEYS.join(", ")}`);
      const given = Object.fromEntries(
        (["model", "output", "steps", "sampling", "temperature", "lr", "batchSize", "seed"] as const)
          .filter((k) => f[k] !== undefined)
          .map((k) => [k, f[k]]),
      );
      const c = { ...raw, ...given } as Record<string, unknown>;
      for (const k of ["model", "output", "steps"])
        if (c[k] === undefined) throw new ArgumentError(`${f.config}: "${k}" is missing (or pass --${k})`);
      if (!Array.isArray(c.tasks) || !c.tasks.every(isObject))
        throw new ArgumentError(`${f.config}: "tasks" must be a list of objects`);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const r = await multitaskFinetune(c as unknown as MultitaskConfig, { log });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
      }
      const lines = [`multi-task model in ${r.output} (${r.seconds.toFixed(0)} s)`];
      for (const t of r.tasks)
        lines.push(
          `  ${t.name} (${t.task}, ${t.steps} steps) ${t.testSplit}: ${Object.entries(t.test)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join("  ")}`,
        );
      process.stdout.write(lines.join("\n") + "\n");
    });
}
