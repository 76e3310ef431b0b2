// Packages a `graft pretrain` run as the bundled base model: models/graft-base with config.json, fp16
// model.safetensors, the tokenizer, a model card (README.md) and the loss curve (loss.svg).
// Usage: node scripts/package-base-model.mjs RUN_DIR [OUT_DIR] [CONTINUED_DIR FROM_STEP] — after `npm run build`.
// CONTINUED_DIR: a later run that continued from RUN_DIR's model at FROM_STEP (metrics.jsonl + best/); its
// weights are packaged and its curve is appended to the first run's.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, saveSafetensors } from "../dist/src/io/safetensors.js";
import { readConfig } from "../dist/src/io/config.js";
import { plot } from "../dist/src/report/svg.js";

const [run, out = "models/graft-base", continued, fromStepArg] = process.argv.slice(2);
if (!run) throw new Error("usage: node scripts/package-base-model.mjs RUN_DIR [OUT_DIR] [CONTINUED_DIR FROM_STEP]");
const fromStep = Number(fromStepArg ?? Infinity);
const best = join(continued ?? run, "best");
mkdirSync(out, { recursive: true });
const tensors = loadSafetensors(join(best, "model.safetensors"));
saveSafetensors(join(out, "model.safetensors"), tensors, { floatDType: "F16", metadata: { format: "pt" } });
for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]) {
  if (existsSync(join(run, "best", f))) copyFileSync(join(run, "best", f), join(out, f));
}
const read = (dir) => readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const metrics = [
  ...read(run).filter((r) => r.step <= fromStep),
  ...(continued ? read(continued).map((r) => ({ ...r, step: r.step + fromStep })) : []),
];
const train = metrics.filter((r) => "loss" in r).map((r) => [r.step, r.loss]);
const evals = metrics.filter((r) => "eval_loss" in r);
writeFileSync(join(out, "loss.svg"), plot({
  title: "Masked-LM loss", x: { label: "optimizer step" }, y: { label: "cross-entropy (nats)" },
  series: [{ name: "training (mean of 20 steps)", points: train }, { name: "validation", points: evals.map((r) => [r.step, r.eval_loss]), kind: "line+markers" }],
  width: 640, height: 320,
}));
const runJson = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
const cfg = readConfig(out);
const params = [...tensors.values()].reduce((s, t) => s + t.size, 0);
const last = evals[evals.length - 1];
const steps = metrics.filter((r) => "loss" in r).at(-1).step;
const p = runJson.pretrain;
writeFileSync(join(out, "README.md"), `# graft-base

A small BERT-style encoder pre-trained by \`graft pretrain\` (masked language modelling) on public-domain English text.
It is the default \`--model\` of \`graft finetune\`, so the quick start works offline. It is small and briefly trained:
a starting point that shows what transfer learning does on a laptop-sized budget, not a competitor to BERT-base.

| | |
| --- | --- |
| architecture | BertForMaskedLM, ${cfg.num_hidden_layers} layers, hidden ${cfg.hidden_size}, ${cfg.num_attention_heads} heads, FFN ${cfg.intermediate_size}, max ${cfg.max_position_embeddings} positions |
| parameters | ${(params / 1e6).toFixed(2)}M (tied decoder counted once), stored as float16 (${"F16"}); graft and transformers load them as float32 |
| tokenizer | WordPiece, ${cfg.vocab_size} tokens, lowercased, accents stripped (\`graft tokenizer train\`) |
| data | Project Gutenberg selection (NLTK, 15 books) + 65 State of the Union addresses (both public domain): ${summary.blocks.tokens.toLocaleString("en")} tokens, ${summary.blocks.train.toLocaleString("en")} training blocks of ${p.blockSize} tokens, ${p.validationFraction * 100}% of documents held out |
| objective | masked LM: ${p.mlmProbability * 100}% of tokens selected, 80/10/10 mask/random/keep, masks redrawn every batch |
| training | ${metrics.filter((r) => "loss" in r).at(-1).step} steps of ${runJson.args.batchSize} blocks (${(steps * runJson.args.batchSize * p.blockSize / 1e6).toFixed(1)}M tokens seen, ${(steps * runJson.args.batchSize / summary.blocks.train).toFixed(2)} epochs), AdamW, weight decay ${runJson.args.weightDecay}; ${continued ? `steps 1–${fromStep}: lr ${runJson.args.lr} with ${runJson.args.warmupRatio * 100}% warmup and linear decay over ${runJson.args.maxSteps} steps, on 2 shared cores (Xeon, AVX-512; ${(fromStep / summary.train.globalStep * summary.train.trainSeconds / 60).toFixed(0)} min, the machine busy with other work); steps ${fromStep + 1}–${steps}: continued from that checkpoint (\`graft pretrain --model\`) with lr 4e-4, 2% warmup, linear decay over 2600 steps, stopped by a time budget, on a lent 16-core machine of the same CPU family (7 min)` : `lr ${runJson.args.lr}, ${runJson.args.warmupRatio * 100}% warmup, linear decay; ${(summary.train.trainSeconds / 60).toFixed(0)} min on 2 shared cores`} |
| result | validation MLM loss (last evaluation) ${last.eval_loss.toFixed(3)} (perplexity ${last.eval_perplexity.toFixed(0)}), masked-token accuracy ${(last.eval_accuracy * 100).toFixed(1)}% |

![loss curve](loss.svg)

## How it was made

\`\`\`sh
graft tokenizer train --corpus ../shared/datasets/gutenberg_nltk/*.txt ../shared/datasets/state_union/*.txt --out tokenizer --vocab-size 12000
graft pretrain --corpus ../shared/datasets/gutenberg_nltk ../shared/datasets/state_union --tokenizer tokenizer \\
  --preset ${p.preset} --block-size ${p.blockSize} --batch-size ${runJson.args.batchSize} --lr ${runJson.args.lr} --warmup-ratio ${runJson.args.warmupRatio} \\
  --max-steps ${runJson.args.maxSteps} --eval-every ${runJson.args.evalEvery} --save-every ${runJson.args.saveEvery} --seed ${runJson.args.seed} --output RUN
${continued ? `graft pretrain --model RUN/best --tokenizer RUN/best --corpus ../shared/datasets/gutenberg_nltk ../shared/datasets/state_union \\
  --block-size 128 --batch-size 32 --lr 4e-4 --warmup-ratio 0.02 --max-steps 2600 --eval-every 100 --seed 2 --output RUN2   # stopped at step 1000 (time budget)
node scripts/package-base-model.mjs RUN models/graft-base RUN2 ${fromStep}` : "node scripts/package-base-model.mjs RUN models/graft-base"}
\`\`\`

Licence of the weights: the training text is public domain; the model is released with graft.
`);
console.log(`wrote ${out}: ${(params / 1e6).toFixed(2)}M parameters, validation loss ${last.eval_loss.toFixed(3)}`);
