/** `graft eval`: score a fine-tuned model directory on a labelled file with its task's metrics. */
import type { Command } from "commander";
import { evaluateFile } from "../tasks/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

/** `graft eval`'s flags (no config file): the model, the labelled file and how to read it. */
export const EVAL_SWITCHES = switchesOnly({
  model: opt.string({ required: true, flag: "--model <dir>", help: "fine-tuned model directory" }),
  data: opt.string({
    required: true,
    flag: "--data <file>",
    help: "labelled file (CSV/TSV/JSONL, or CoNLL for NER models)",
  }),
  task: opt.string({ flag: "--task <name>", help: "a multi-task model (graft multitask): the task to score" }),
  batchSize: opt.integer({ default: 32, gt: 0, help: "examples per forward pass" }),
  json: opt.boolean({ help: "print JSON" }),
  allowNonfinite: opt.boolean({
    flag: "--allow-nonfinite",
    help: "load a model whose weights hold NaN or Infinity (refused otherwise), to inspect it",
  }),

  ...readSchema("fail"),
});

export function register(program: Command): void {
  const cmd = program
    .command("eval")
    .description("score a fine-tuned model (a run's best/ directory) on a labelled file");
  addOptions(cmd, EVAL_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft eval --model runs/finetune-x/best --data test.csv\n  graft eval --model runs/ner/best --data test.conll --json\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(EVAL_SWITCHES, command);
      const { metrics, examples } = await evaluateFile(f.model, f.data, {
        read: readOptionsFrom(f),
        batchSize: f.batchSize,
        allowNonFinite: f.allowNonfinite,
        task: f.task,
      });
      if (f.json) process.stdout.write(JSON.stringify({ examples, ...metrics }) + "\n");
      else {
        process.stdout.write(`${examples} examples from ${f.data}\n`);
        for (const [k, v] of Object.entries(metrics))
          process.stdout.write(`  ${k.padEnd(16)} ${Number.isInteger(v) ? v : v.toFixed(4)}\n`);
      }
    });
}
