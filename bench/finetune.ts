/**
 * Fine-tuning throughput at the mini size: examples/s for full fine-tuning, a frozen backbone (linear probing) and LoRA.
 *
 * `npm run bench -- finetune [steps] [seq]`: a BERT-style classifier (6 layers, hidden 384, 12 heads, FFN 1536,
 * vocabulary 30522) trained by the Trainer on synthetic token ids, batch 16, sequence 128 by default. The first
 * two steps are warm-up and not counted.
 */
import { Tensor } from "../src/tensor/index.js";
import { manualSeed, Rng } from "../src/util/rng.js";
import { makeConfig } from "../src/models/index.js";
import {
  AutoModelForSequenceClassification,
  type ClassifierOutput,
  type ClassificationModel,
} from "../src/models/index.js";
import { Trainer, applyFreeze, injectLora } from "../src/train/index.js";
import { backend } from "../src/backend/index.js";

const steps = Number(process.argv[2] ?? 8);
const seq = Number(process.argv[3] ?? 128);
const batch = 16;
const r = new Rng(3);
const n = batch * (steps + 2);
const ids = Int32Array.from({ length: n * seq }, () => r.int(30522));
const labels = Int32Array.from({ length: n }, () => r.int(2));

function build(): ClassificationModel {
  manualSeed(0);
  return AutoModelForSequenceClassification.fromConfig(
    makeConfig("bert", {
      vocab_size: 30522,
      hidden_size: 384,
      num_hidden_layers: 6,
      num_attention_heads: 12,
      intermediate_size: 1536,
      num_labels: 2,
    }),
  );
}

async function measure(name: string, adapt: (m: ClassificationModel) => void): Promise<void> {
  const model = build();
  adapt(model);
  const times: number[] = [];
  let last = 0;
  const trainer = new Trainer({
    model,
    trainSize: n,
    args: { batchSize: batch, epochs: 1, logEvery: 1, evalEvery: "epoch", saveEvery: "none", lr: 1e-4 },
    collate: (idx) => ({
      inputIds: new Tensor(
        Int32Array.from({ length: idx.length * seq }, (_, k) => ids[idx[Math.floor(k / seq)] * seq + (k % seq)]),
        [idx.length, seq],
      ),
      labels: new Tensor(
        Int32Array.from(idx, (i) => labels[i]),
        [idx.length],
      ),
    }),
    loss: (m, b) => ((m as ClassificationModel).forward(b) as ClassifierOutput).loss!,
    callbacks: [
      {
        onTrainBegin: () => void (last = performance.now()),
        onLog: () => {
          const t = performance.now();
          times.push(t - last);
          last = t;
        },
      },
    ],
  });
  await trainer.train();
  const counted = times.slice(2);
  const ms = counted.reduce((a, b) => a + b, 0) / counted.length;
  process.stdout.write(
    `${name.padEnd(16)} ${((batch * 1000) / ms).toFixed(1).padStart(8)} examples/s   ${ms.toFixed(0).padStart(6)} ms/step   ${model.numParameters({ trainableOnly: true }).toLocaleString("en")} trainable of ${model.numParameters().toLocaleString("en")}\n`,
  );
}

process.stdout.write(
  `mini BERT classifier, batch ${batch}, sequence ${seq}, ${backend().name} backend, ${new Date().toISOString().slice(0, 10)}\n`,
);
await measure("full", () => {});
await measure("frozen backbone", (m) => void applyFreeze(m, { backbone: true }, ["classifier.*"]));
await measure(
  "LoRA r=8 q,v",
  (m) =>
    void injectLora(m, {
      r: 8,
      alpha: 16,
      dropout: 0.1,
      targetModules: ["query", "value"],
      modulesToSave: ["classifier"],
    }),
);
