/** `graft eval`: score a fine-tuned model directory on a labelled file with its task's metrics. */
import type { Command } from "commander";
import { evaluateFile } from "../tasks/index.js";
import { addReadOptions, readOptionsFrom, type ReadFlags } from "./data.js";

export function register(program: Command): void {
  addReadOptions(
    program
      .command("eval")
      .description("score a fine-tuned model (a run's best/ directory) on a labelled file")
      .requiredOption("--model <dir>", "fine-tuned model directory")
      .requiredOption("--data <file>", "labelled file (CSV/TSV/JSONL, or CoNLL for NER models)")
      .option("--batch-size <n>", "examples per forward pass", "32")
      .option("--json", "print JSON"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  graft eval --model runs/finetune-x/best --data test.csv\n  graft eval --model runs/ner/best --data test.conll --json\n",
    )
    .action(async (f: ReadFlags & { model: string; data: string; batchSize: string; json?: boolean }) => {
      const { metrics, examples } = await evaluateFile(f.model, f.data, {
        read: readOptionsFrom(f),
        batchSize: Number(f.batchSize),
      });
      if (f.json) process.stdout.write(JSON.stringify({ examples, ...metrics }) + "\n");
      else {
        process.stdout.write(`${examples} examples from ${f.data}\n`);
        for (const [k, v] of Object.entries(metrics))
          process.stdout.write(`  ${k.padEnd(16)} ${Number.isInteger(v) ? v : v.toFixed(4)}\n`);
      }
    });
}
