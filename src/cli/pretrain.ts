/** `graft pretrain`: masked-LM or causal-LM pre-training on raw text, from scratch or continued from a checkpoint. */
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { RunDir } from "../train/index.js";
import { pretrain, SIZE_PRESETS, type PretrainConfig } from "../tasks/index.js";
import { definedOnly as defined, numberOption, readConfigFile } from "./config.js";
import { progressCallback } from "./progress.js";

interface Flags {
  config?: string;
  corpus?: string[];
  objective?: string;
  model?: string;
  tokenizer?: string;
  architecture?: string;
  preset?: string;
  vocabSize?: string;
  blockSize?: string;
  validationFraction?: string;
  mlmProbability?: string;
  wholeWordMasking?: boolean;
  output?: string;
  resume?: string;
  epochs?: string;
  maxSteps?: string;
  batchSize?: string;
  gradAccum?: string;
  lr?: string;
  warmupRatio?: string;
  schedule?: string;
  evalEvery?: string;
  saveEvery?: string;
  seed?: string;
  json?: boolean;
  quiet?: boolean;
}

const int = (flag: string, v: string | undefined) => numberOption(flag, v, true);
const float = (flag: string, v: string | undefined) => numberOption(flag, v);

export function register(program: Command): void {
  program
    .command("pretrain")
    .description("pre-train a language model on raw text (masked LM for BERT, causal LM for GPT-2)")
    .option("--config <file>", "run configuration (JSON or YAML); flags override it")
    .option("--corpus <paths...>", "text/JSONL files or directories, streamed")
    .option("--objective <mlm|clm>", "masked LM (BERT) or causal LM (GPT-2)")
    .option("--model <dir|id>", "continue from this checkpoint (domain-adaptive pre-training)")
    .option("--tokenizer <dir>", "tokenizer to use (default: the checkpoint's, or train one on the corpus)")
    .option("--architecture <bert|gpt2>", "architecture when starting from scratch")
    .option("--preset <size>", `size when starting from scratch: ${Object.keys(SIZE_PRESETS).join(", ")}`)
    .option("--vocab-size <n>", "vocabulary of a tokenizer trained here (8000)")
    .option("--block-size <n>", "tokens per training block (128)")
    .option("--validation-fraction <f>", "documents held out for validation perplexity (0.01)")
    .option("--mlm-probability <f>", "fraction of tokens selected for masking (0.15)")
    .option("--whole-word-masking", "mask all sub-tokens of a chosen word together")
    .option("--output <dir>", "run directory")
    .option("--resume <runDir>", "continue an interrupted run from its last complete checkpoint")
    .option("--epochs <n>", "passes over the corpus")
    .option("--max-steps <n>", "stop after this many optimizer steps")
    .option("--batch-size <n>", "blocks per step (32)")
    .option("--grad-accum <n>", "micro-batches per optimizer step")
    .option("--lr <x>", "peak learning rate (5e-4)")
    .option("--warmup-ratio <f>", "warmup fraction (0.05)")
    .option("--schedule <name>", "linear | cosine | constant | slanted_triangular | one_cycle")
    .option("--eval-every <n>", "validation every N steps (500)")
    .option("--save-every <n>", "checkpoint every N steps (500)")
    .option("--seed <n>", "seed (42)")
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  graft pretrain --corpus books/ --preset mini --vocab-size 12000 --epochs 2 --output runs/base
  graft pretrain --objective clm --architecture gpt2 --corpus corpus.jsonl --preset tiny --max-steps 2000
  graft pretrain --model runs/base/best --corpus reviews.txt --max-steps 1000   # domain-adaptive pre-training
`,
    )
    .action(async (f: Flags) => {
      let config: Partial<PretrainConfig> & { corpus: string[] };
      if (f.resume) {
        const run = new RunDir(f.resume).readRunConfig<{ pretrain?: PretrainConfig }>();
        if (!run.pretrain) throw new GraftError(`${f.resume}/run.json is not a pretrain run`);
        config = { ...run.pretrain, output: f.resume };
      } else {
        const file = (f.config ? readConfigFile(f.config) : {}) as Partial<PretrainConfig>;
        config = {
          ...file,
          ...defined({
            corpus: f.corpus,
            objective: f.objective as never,
            model: f.model,
            tokenizer: f.tokenizer,
            architecture: f.architecture as never,
            preset: f.preset as never,
            vocabSize: int("vocab-size", f.vocabSize),
            blockSize: int("block-size", f.blockSize),
            validationFraction: float("validation-fraction", f.validationFraction),
            mlmProbability: float("mlm-probability", f.mlmProbability),
            wholeWordMasking: f.wholeWordMasking,
            output: f.output,
          }),
          training: {
            ...(file.training ?? {}),
            ...defined({
              epochs: int("epochs", f.epochs),
              maxSteps: int("max-steps", f.maxSteps),
              batchSize: int("batch-size", f.batchSize),
              gradAccumSteps: int("grad-accum", f.gradAccum),
              lr: float("lr", f.lr),
              warmupRatio: float("warmup-ratio", f.warmupRatio),
              schedule: f.schedule as never,
              evalEvery: int("eval-every", f.evalEvery),
              saveEvery: int("save-every", f.saveEvery),
              seed: int("seed", f.seed),
            }),
          },
        } as Partial<PretrainConfig> & { corpus: string[] };
        if (!config.corpus?.length)
          throw new GraftError("no corpus: give --corpus FILE_OR_DIR...", "see graft pretrain --help");
      }
      const log = (s: string) => {
        if (!f.quiet && !f.json) process.stderr.write(s + "\n");
      };
      const r = await pretrain(config, {
        log,
        resume: Boolean(f.resume),
        callbacks: f.json || f.quiet ? [] : [progressCallback()],
      });
      if (f.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      else {
        process.stdout.write(
          `validation: ${Object.entries(r.validation)
            .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
            .join("  ")}\n`,
        );
        process.stdout.write(
          `trained ${r.train.globalStep} steps in ${r.train.trainSeconds.toFixed(1)} s; ${(r.parameters / 1e6).toFixed(2)}M parameters\nrun:   ${r.runDir}\nmodel: ${r.bestDir}\n`,
        );
      }
      if (r.train.interrupted) process.exitCode = 130;
    });
}
