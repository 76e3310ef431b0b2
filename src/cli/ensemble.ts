/** `graft ensemble`: metrics of each run and of their ensemble on a labelled file (src/methods/ensemble.ts). */
import type { Command } from "commander";
import { ensembleEvaluate } from "../methods/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { readOptionsFrom, readSchema } from "./data.js";
import { addOptions, resolveFlags } from "./options.js";

export const ENSEMBLE_SWITCHES = switchesOnly({
  runs: opt.list("string", {
    required: true,
    minLength: 2,
    flag: "--runs <dirs...>",
    help: "fine-tuned classifiers of the same labels (run directories or model directories)",
  }),
  data: opt.string({ required: true, flag: "--data <file>", help: "labelled file (CSV/TSV/JSONL)" }),
  batchSize: opt.integer({ default: 32, min: 1, help: "examples per forward pass" }),
  json: opt.boolean({ help: "print JSON" }),
  ...readSchema("fail"),
});

export function register(program: Command): void {
  const cmd = program
    .command("ensemble")
    .description("score an ensemble of fine-tuned classifiers (mean probabilities, majority vote) and each member");
  addOptions(cmd, ENSEMBLE_SWITCHES)
    .addHelpText("after", "\nExample:\n  graft ensemble --runs runs/a runs/b runs/c --data test.csv\n")
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(ENSEMBLE_SWITCHES, command);
      const r = await ensembleEvaluate({
        runs: f.runs,
        data: f.data,
        read: readOptionsFrom(f),
        batchSize: f.batchSize,
      });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
      }
      const rows: [string, Record<string, number> | null][] = [
        ...r.members.map((m): [string, Record<string, number>] => [m.run, m.metrics]),
        ["ensemble (mean probabilities)", r.mean],
        ["ensemble (majority vote)", r.vote],
      ];
      const w = Math.max(...rows.map(([n]) => n.length));
      process.stdout.write(`${r.examples} examples from ${f.data}\n${"".padEnd(w)}  accuracy  f1_macro\n`);
      for (const [name, m] of rows)
        process.stdout.write(
          `${name.padEnd(w)}  ${m ? m.accuracy.toFixed(4).padEnd(8) : "-".padEnd(8)}  ${m ? m.f1_macro.toFixed(4) : "-"}\n`,
        );
    });
}
