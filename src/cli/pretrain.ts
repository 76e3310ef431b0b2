/** `graft pretrain`: masked-LM, causal-LM or span-corruption pre-training on raw text, from scratch or continued. */
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { pretrain } from "../tasks/index.js";
import { PRETRAIN_SCHEMA, type PretrainOptions, type ResolvedPretrainConfig } from "../tasks/pretrain.js";
import { addOptions, configAndFlags, configSwitch, flagOptions, resumedConfig, runSwitches } from "./options.js";
import { progressCallback } from "./progress.js";
import { isMainRank } from "../train/index.js";

/** Switches of the command line that are not run settings (never in a config file or run.json). */
export const PRETRAIN_SWITCHES = {
  ...configSwitch(),
  ...runSwitches("corpus files"),
};

export function register(program: Command): void {
  const cmd = program
    .command("pretrain")
    .description(
      "pre-train a language model on raw text (masked LM for BERT, causal LM for GPT-2, span corruption for T5)",
    );
  const { config, ...switches } = PRETRAIN_SWITCHES;
  addOptions(cmd, { config }, PRETRAIN_SCHEMA, switches)
    .addHelpText(
      "after",
      `
Examples:
  graft pretrain --corpus books/ --preset mini --vocab-size 12000 --epochs 2 --output runs/base
  graft pretrain --objective clm --architecture gpt2 --corpus corpus.jsonl --preset tiny --max-steps 2000
  graft pretrain --model runs/base/best --corpus reviews.txt --max-steps 1000   # domain-adaptive pre-training
  graft pretrain --objective span-corruption --corpus corpus/ --preset mini --output runs/t5
`,
    )
    .action(async (_: unknown, command: Command) => {
      const f = flagOptions(PRETRAIN_SWITCHES, command);
      let config: PretrainOptions & { corpus: string[] };
      if (f.resume) {
        config = resumedConfig<ResolvedPretrainConfig>("pretrain", PRETRAIN_SCHEMA, command, f);
      } else {
        if (f.allowDataChange) throw new GraftError("--allow-data-change is for --resume");
        const given = configAndFlags(PRETRAIN_SCHEMA, command, f.config);
        if (!given.corpus?.length)
          throw new GraftError("no corpus: give --corpus FILE_OR_DIR...", "see graft pretrain --help");
        config = given as PretrainOptions & { corpus: string[] };
      }
      // under mpirun, rank 0 alone prints (docs/distributed.md)
      const main = isMainRank();
      const log = (s: string) => {
        if (!f.quiet && !f.json && main) process.stderr.write(s + "\n");
      };
      const r = await pretrain(config, {
        log,
        resume: Boolean(f.resume),
        allowNonFinite: f.allowNonfinite,
        overwrite: f.overwrite,
        allowDataChange: f.allowDataChange,
        callbacks: f.json || f.quiet || !main ? [] : [progressCallback()],
      });
      if (main && f.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      else if (main) {
        process.stdout.write(
          `validation: ${Object.entries(r.validation)
            .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
            .join("  ")}\n`,
        );
        process.stdout.write(
          `trained ${r.train.globalStep} steps in ${r.train.trainSeconds.toFixed(1)} s; ${(r.parameters / 1e6).toFixed(2)}M parameters\nrun:   ${r.runDir}\nmodel: ${r.bestDir}\n`,
        );
      }
      if (r.train.interrupted) {
        if (main)
          process.stdout.write(
            `interrupted; a checkpoint was saved\nresume with: graft pretrain --resume ${r.runDir}\n`,
          );
        process.exitCode = r.train.signal === "SIGTERM" ? 143 : 130;
      }
    });
}
