/**
 * `graft translate`: text in, text out with a seq2seq model directory (a `--task seq2seq` run's best/, or a T5 /
 * BART checkpoint), line by line: `graft translate --model DIR < input.txt > output.txt`. Line i of the output is
 * the translation of line i of the input (a blank line stays blank); lines go through the model in batches, and
 * each batch is written as soon as it is done, so output streams while input is still arriving. At a terminal
 * every line is translated as soon as it is typed.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { loadPredictor } from "../tasks/predictor.js";
import { addOptions, resolveFlags } from "./options.js";

export const TRANSLATE_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "seq2seq model directory (graft finetune --task seq2seq, or a T5/BART checkpoint)",
  }),
  input: opt.string({ flag: "--input <file>", help: "text to translate, one segment per line", defaultHelp: "stdin" }),
  output: opt.string({ flag: "--output <file>", help: "write the translations here", defaultHelp: "stdout" }),
  numBeams: opt.integer({
    min: 1,
    flag: "--num-beams <n>",
    help: "beam search with this many beams",
    defaultHelp: "the model's (graft_task.json), else 1",
  }),
  maxNewTokens: opt.integer({
    min: 1,
    flag: "--max-new-tokens <n>",
    help: "longest translation in tokens",
    defaultHelp: "the model's --max-target-length, else 128",
  }),
  batchSize: opt.integer({ default: 16, gt: 0, help: "lines per batch (1 at a terminal)" }),
  allowNonfinite: opt.boolean({
    flag: "--allow-nonfinite",
    help: "load a model whose weights hold NaN or Infinity (refused otherwise), to inspect it",
  }),
});

export function register(program: Command): void {
  const cmd = program
    .command("translate")
    .description("translate (or otherwise transform) text line by line with a seq2seq model");
  addOptions(cmd, TRANSLATE_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft translate --model runs/en-de/best < test.en > test.hyp.de\n  graft translate --model runs/en-de/best --num-beams 4 --input test.en --output test.hyp.de\n",
    )
    .action(async (_: unknown, command: Command) => {
      const o = resolveFlags(TRANSLATE_SWITCHES, command);
      const predictor = loadPredictor(o.model, {
        generation: {
          ...(o.numBeams !== undefined ? { numBeams: o.numBeams } : {}),
          ...(o.maxNewTokens !== undefined ? { maxNewTokens: o.maxNewTokens } : {}),
        },
        name: `--model ${o.model}`,
        allowNonFinite: o.allowNonfinite,
      });
      if (predictor.task !== "seq2seq")
        throw new GraftError(
          `--model ${o.model} holds a ${predictor.kind}, not a seq2seq model`,
          "translate runs encoder-decoders (T5, BART) fine-tuned with graft finetune --task seq2seq",
        );
      const interactive = o.input === undefined && process.stdin.isTTY === true;
      const batchSize = interactive ? 1 : o.batchSize;
      const input = o.input === undefined ? process.stdin : createReadStream(o.input);
      const file = o.output ? createWriteStream(o.output) : undefined;
      const out: NodeJS.WritableStream = file ?? process.stdout;
      let batch: string[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const texts = batch.map((l) => l.trim());
        const todo = texts.map((t, i) => [t, i] as const).filter(([t]) => t !== "");
        const preds = await predictor.predict(todo.map(([t]) => t));
        const lines = texts.map(() => "");
        todo.forEach(([, i], k) => {
          lines[i] = String((preds[k] as { generated?: unknown }).generated ?? "").replace(/[\r\n]+/g, " ");
        });
        if (!out.write(`${lines.join("\n")}\n`)) await new Promise((r) => out.once("drain", r));
        batch = [];
      };
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        batch.push(line);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      if (file)
        await new Promise<void>((resolve, reject) => {
          file.once("error", reject);
          file.end(() => resolve());
        });
    });
}
