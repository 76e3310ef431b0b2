/** `graft soup`: average the weights of fine-tuned runs (uniform, greedy or SWA) into a model directory (src/methods/soup.ts). */
import type { Command } from "commander";
import { modelSoup } from "../methods/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

export const SOUP_SWITCHES = switchesOnly({
  runs: opt.list("string", {
    required: true,
    minLength: 1,
    flag: "--runs <dirs...>",
    help: "fine-tuned runs of the same base model (run directories or their best/)",
  }),
  out: opt.string({ required: true, flag: "--out <dir>", help: "where the soup's model directory goes" }),
  validation: opt.string({ flag: "--validation <file>", help: "labelled file that scores ingredients and soup" }),
  greedy: opt.boolean({ help: "greedy soup: add runs best-first while the validation score does not drop" }),
  swa: opt.integer({ default: 0, min: 0, help: "SWA: average each run's last N checkpoints (0 = off)" }),
  metric: opt.string({ flag: "--metric <name>", help: "validation metric", defaultHelp: "the task's" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "examples per forward pass" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const cmd = program
    .command("soup")
    .description("average fine-tuned runs' weights (uniform or greedy model soup, SWA) into one model directory");
  addOptions(cmd, SOUP_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft soup --runs runs/a runs/b runs/c --out soup\n  graft soup --runs runs/a runs/b runs/c --validation dev.csv --greedy --out soup\n  graft soup --runs runs/a --swa 3 --out swa\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(SOUP_SWITCHES, command);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const r = await modelSoup({
        runs: f.runs,
        out: f.out,
        validation: f.validation,
        greedy: f.greedy,
        swa: f.swa > 0 ? f.swa : undefined,
        metric: f.metric,
        read: readOptionsFrom(f),
        batchSize: f.batchSize,
        log,
      });
      if (f.json) process.stdout.write(JSON.stringify(r) + "\n");
      else {
        const used = r.ingredients.filter((i) => i.used).length;
        process.stdout.write(
          `${r.method} soup of ${used} of ${r.ingredients.length} ingredient(s) written to ${r.out}\n`,
        );
        if (r.score !== null) process.stdout.write(`  validation ${r.metric} ${r.score.toFixed(4)}\n`);
      }
    });
}
