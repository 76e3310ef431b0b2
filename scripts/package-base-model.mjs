// Packages a `graft pretrain` run as the bundled base model, models/graft-base: config.json, fp16 model.safetensors,
// the tokenizer, a model card (README.md) and the loss curve of each training phase.
//
// Usage (after `npm run build`): node scripts/package-base-model.mjs RUN_DIR [OUT_DIR] --where "on what it ran" [--minutes N]
//   [--corpus-as "corpus/shared/corpus.jsonl"] [--sources corpus/shared/SOURCES.md]
// --corpus-as names the phase's corpus in its command as a reader can rebuild it (the run records absolute paths);
// --sources adds the corpus builder's table of sources and licences (`graft corpus`) to the phase and the card.
// A phase may change the objective: an ELECTRA phase (`graft pretrain --objective electra --model OUT_DIR`) turns the
// BERT model into an ELECTRA discriminator, packaged with its generator (generator/, fp16) for further pre-training.
// The model is trained in phases; OUT_DIR/history.json lists them (data, tokenizer command, and per phase: steps,
// machine, minutes, schedule, command, validation result, curve). RUN_DIR is the next phase: a run that continued
// from OUT_DIR's packaged weights (`graft pretrain --model OUT_DIR`), or the first phase when OUT_DIR has no history yet.
// Its best weights replace OUT_DIR's, its curve is written as loss-steps-A-B.svg, and the card is written anew.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, saveSafetensors } from "../dist/src/io/safetensors.js";
import { readConfig } from "../dist/src/models/index.js";
import { plot } from "../dist/src/report/svg.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const where = flag("where") ?? "2 shared cores (Xeon, AVX-512)";
// a resumed run's summary counts only the time since the resume: give the whole phase's minutes then
const minutes = flag("minutes");
const corpusAs = flag("corpus-as");
const sourcesFile = flag("sources");
const [run, out = "models/graft-base"] = args;
if (!run) throw new Error('usage: node scripts/package-base-model.mjs RUN_DIR [OUT_DIR] --where "2 shared cores"');

const historyPath = join(out, "history.json");
const history = existsSync(historyPath) ? JSON.parse(readFileSync(historyPath, "utf8")) : { phases: [] };
const runJson = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
const p = runJson.pretrain;
const a = runJson.args;
const first = history.phases.length === 0;
const offset = first ? 0 : history.phases.at(-1).steps[1];

// weights (fp16) and, for a first phase, the tokenizer and config
mkdirSync(out, { recursive: true });
const best = join(run, "best");
const tensors = loadSafetensors(join(best, "model.safetensors"));
saveSafetensors(join(out, "model.safetensors"), tensors, { floatDType: "F16", metadata: { format: "pt" } });
for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]) {
  if ((first || f === "config.json") && existsSync(join(best, f))) copyFileSync(join(best, f), join(out, f));
}
// ELECTRA's generator, for continued (and task-adaptive) pre-training; a masked-LM phase has none
rmSync(join(out, "generator"), { recursive: true, force: true });
if (existsSync(join(best, "generator", "model.safetensors"))) {
  mkdirSync(join(out, "generator"));
  saveSafetensors(
    join(out, "generator", "model.safetensors"),
    loadSafetensors(join(best, "generator", "model.safetensors")),
    { floatDType: "F16", metadata: { format: "pt" } },
  );
  const g = JSON.parse(readFileSync(join(best, "generator", "config.json"), "utf8"));
  writeFileSync(
    join(out, "generator", "config.json"),
    `${JSON.stringify({ ...g, dtype: "float32", torch_dtype: "float32" }, null, 2)}\n`,
  );
}
// the weights are float16 on disk but graft trained (and computes) in float32: say so, or transformers 5 (whose
// from_pretrained defaults to dtype="auto") would compute in float16 — `dtype` is what transformers 5 reads,
// `torch_dtype` what 4.x wrote and 5.x still accepts (scripts/check_base_model_dtype.py checks it)
const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
Object.assign(config, { dtype: "float32", torch_dtype: "float32" });
writeFileSync(
  join(out, "config.json"),
  `${JSON.stringify(Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 2)}\n`,
);

// this phase: its curve and its record
const metrics = readFileSync(join(run, "metrics.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const steps = summary.train.globalStep;
const range = [offset + 1, offset + steps];
const curve = `loss-steps-${range[0]}-${range[1]}.svg`;
const evals = metrics.filter((r) => "eval_loss" in r);
writeFileSync(
  join(out, curve),
  plot({
    title: `${p.objective === "electra" ? "ELECTRA loss (generator MLM + 50 × discriminator BCE)" : "Masked-LM loss"}, steps ${range[0]}–${range[1]}`,
    x: { label: "optimizer step" },
    y: { label: "cross-entropy (nats)" },
    series: [
      {
        name: "training (mean of 20 steps)",
        points: metrics.filter((r) => "loss" in r).map((r) => [r.step + offset, r.loss]),
      },
      { name: "validation", points: evals.map((r) => [r.step + offset, r.eval_loss]), kind: "line+markers" },
    ],
    width: 640,
    height: 320,
  }),
);
const _last = evals.at(-1);
const bestEval = evals.reduce((b, r) => (r.eval_loss < b.eval_loss ? r : b));
const source = first ? `--tokenizer tokenizer --preset ${p.preset}` : `--model ${out} --tokenizer ${out}`;
const corpusArg = corpusAs ?? "../shared/datasets/gutenberg_nltk ../shared/datasets/state_union";
const data = `${corpusAs ?? p.corpus.join(" + ")}: ${runJson.blocks.tokens.toLocaleString("en")} tokens, ${runJson.blocks.train.toLocaleString("en")} training blocks of ${p.blockSize} tokens`;
history.data ??= data;
const electra = p.objective === "electra";
history.phases.push({
  objective: p.objective,
  ...(first || data === history.data ? {} : { data }),
  ...(sourcesFile ? { sources: readFileSync(sourcesFile, "utf8").trim() } : {}),
  steps: range,
  where,
  minutes: minutes !== undefined ? Number(minutes) : Math.round(summary.train.trainSeconds / 60),
  schedule: `lr ${a.lr}, ${a.warmupRatio * 100}% warmup, ${a.schedule} decay over ${a.maxSteps} steps${steps < a.maxSteps ? ` (stopped at ${steps})` : ""}`,
  command: `graft pretrain ${electra ? "--objective electra " : ""}${source} --corpus ${corpusArg} --block-size ${p.blockSize} --batch-size ${a.batchSize} --lr ${a.lr} --warmup-ratio ${a.warmupRatio} --max-steps ${a.maxSteps} --eval-every ${a.evalEvery} --save-every ${a.saveEvery} --seed ${a.seed} --output RUN${history.phases.length + 1}`,
  validation: electra
    ? {
        loss: +bestEval.eval_loss.toFixed(3),
        generatorLoss: +bestEval.eval_generator_loss.toFixed(3),
        discriminatorLoss: +bestEval.eval_discriminator_loss.toFixed(4),
        accuracy: +bestEval.eval_accuracy.toFixed(4),
        replaced: +bestEval.eval_replaced_fraction.toFixed(4),
        step: bestEval.step + offset,
      }
    : {
        loss: +bestEval.eval_loss.toFixed(3),
        perplexity: Math.round(bestEval.eval_perplexity),
        accuracy: +bestEval.eval_accuracy.toFixed(3),
        step: bestEval.step + offset,
      },
  curve,
});
writeFileSync(historyPath, JSON.stringify(history, null, 2) + "\n");

// the card
const cfg = readConfig(out);
const params = [...tensors.values()].reduce((s, t) => s + t.size, 0);
const total = history.phases.at(-1).steps[1];
const result = history.phases.at(-1).validation;
const curves = [...new Set(history.phases.map((ph) => ph.curve))];
const objectiveOf = (ph) => ph.objective ?? "mlm";
/** A phase's validation result, in the terms of its objective. */
const describe = (v, objective) =>
  !v
    ? "–"
    : objective === "electra"
      ? `${v.loss.toFixed(3)} (generator MLM ${v.generatorLoss.toFixed(3)}, discriminator BCE ${v.discriminatorLoss.toFixed(4)}, accuracy ${(v.accuracy * 100).toFixed(1)}% with ${(v.replaced * 100).toFixed(1)}% replaced)`
      : `${v.loss.toFixed(3)} (perplexity ${v.perplexity}, accuracy ${(v.accuracy * 100).toFixed(1)}%)`;
const phaseRows = history.phases.map(
  (ph, i) =>
    `| ${i + 1} | ${ph.steps[0]}–${ph.steps[1]} | ${objectiveOf(ph) === "electra" ? "ELECTRA" : "masked LM"} | ${ph.schedule} | ${ph.where} | ${ph.minutes} min | ${describe(ph.validation, objectiveOf(ph))} |`,
);
const tokensSeen = history.phases.reduce((n, ph) => n + (ph.steps[1] - ph.steps[0] + 1) * a.batchSize * p.blockSize, 0);
const datas = [history.data, ...history.phases.filter((ph) => ph.data).map((ph) => ph.data)];
const objectives = [...new Set(history.phases.map(objectiveOf))];
const isElectra = cfg.model_type === "electra";
const sources = history.phases.filter((ph) => ph.sources);
writeFileSync(
  join(out, "README.md"),
  `# graft-base

A small ${isElectra ? "ELECTRA discriminator (a BERT-style encoder)" : "BERT-style encoder"} pre-trained by \`graft pretrain\`${objectives.length > 1 ? " (masked language modelling, then ELECTRA's replaced-token detection)" : " (masked language modelling)"}.
It is the default \`--model\` of \`graft finetune\`, so the quick start works offline. It is small and briefly trained:
a starting point that shows what transfer learning does on a laptop-sized budget, not a competitor to BERT-base.

| | |
| --- | --- |
| architecture | ${cfg.architectures?.[0] ?? cfg.model_type}, ${cfg.num_hidden_layers} layers, hidden ${cfg.hidden_size}, ${cfg.num_attention_heads} heads, FFN ${cfg.intermediate_size}, max ${cfg.max_position_embeddings} positions${isElectra ? "; its generator (ElectraForMaskedLM, a quarter of the width, sharing the embeddings) is in generator/" : ""} |
| parameters | ${(params / 1e6).toFixed(2)}M (${isElectra ? "the discriminator" : "tied decoder counted once"}), stored as float16 (F16); graft and transformers load them as float32 |
| tokenizer | WordPiece, ${cfg.vocab_size} tokens, lowercased, accents stripped (\`graft tokenizer train\`) |
| data | ${datas.join("; then ")} |
| objectives | ${objectives.map((o) => (o === "electra" ? `ELECTRA: a generator fills ${p.mlmProbability * 100}% masked positions with samples, the discriminator labels every token original or replaced; loss generator MLM + 50 × discriminator BCE` : "masked LM: 15% of tokens selected, 80/10/10 mask/random/keep, masks redrawn every batch")).join("; ")} |
| training | ${total} steps of ${a.batchSize} blocks (${(tokensSeen / 1e6).toFixed(1)}M tokens seen), AdamW, weight decay ${a.weightDecay}, in ${history.phases.length} phases (below), each continuing from the previous one's best weights |
| result | ${objectiveOf(history.phases.at(-1)) === "electra" ? "validation ELECTRA loss" : "validation MLM loss"} ${describe(result, objectiveOf(history.phases.at(-1)))} (step ${result.step}) |

| phase | steps | objective | schedule | on | time | validation loss at the end |
| --- | --- | --- | --- | --- | --- | --- |
${phaseRows.join("\n")}

Each validation loss is on the held-out documents (1%) of its phase's corpus: losses of phases on different corpora
do not compare.

${curves.map((c) => `![loss curve](${c})`).join("\n")}

## Fine-tuning it

transformers' defaults (lr 5e-5, batch 16, 3 epochs) suit BERT-base; this model is 17 times smaller and learns
little with them on small data. \`finetune_defaults.json\` here recommends lr 2e-4, batch 32 and 10 epochs, which
\`graft finetune\` uses unless the run says otherwise (flags and config files win). They were chosen by a grid on 600
SST-2 sentences, scored on the 872 dev sentences: the defaults gave 0.529 accuracy (two seeds), below the TF-IDF
baseline's 0.606; these settings gave 0.622. The grid and its command are in RESULTS.md ("Fine-tuning settings of
the bundled model"). On large data, fewer epochs do as well in less time: pass \`--epochs 3\`.

## How it was made

\`\`\`sh
${history.tokenizer ?? "graft tokenizer train --corpus CORPUS --out tokenizer"}
${history.phases.map((ph) => ph.command).join("\n")}
\`\`\`

Each phase is packaged with \`node scripts/package-base-model.mjs RUN_N models/graft-base --where "..."\`, which
appends it to \`history.json\` and writes this card.
${sources.map((ph) => `\n## Sources of phase ${history.phases.indexOf(ph) + 1} (\`graft corpus\` manifest)\n\n${ph.sources.replace(/^# .*\n+/, "")}\n`).join("")}
## Licence

${
  sources.length
    ? `The weights are released with graft. Phases ${history.phases
        .map((ph, i) => (ph.sources ? null : i + 1))
        .filter(Boolean)
        .join(
          ", ",
        )} trained on public-domain text only; the phases with a sources table above also trained on texts some of which are licensed for research or non-commercial use only (see their licence column): treat the weights as bound by the most restrictive of those terms.`
    : "The training text is public domain; the model is released with graft."
}
`,
);
console.log(
  `wrote ${out}: phase ${history.phases.length}, steps ${range[0]}–${range[1]}, best validation loss ${result.loss.toFixed(3)}`,
);
