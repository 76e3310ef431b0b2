/**
 * The onnxruntime-node peer of bench/serve.ts: a minimal Node HTTP server, as an application using onnxruntime-node
 * (the engine Transformers.js runs) would write one. `POST /predict` with `{"inputs": TEXT}` tokenizes the text with
 * @huggingface/tokenizers (Transformers.js's tokenizer) from the model directory's tokenizer.json, cuts it to the
 * model's 128 positions (keeping the final [SEP]), runs the exported classifier once per request (no batching
 * across requests) and answers TEI's shape, labels with softmax scores, highest first. ONNX Runtime's intra-op
 * threads: every core (its default).
 *
 *   node dist/bench/peers/ort-server.js MODEL.onnx MODEL_DIR   → prints "listening on http://127.0.0.1:PORT"
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [onnxPath, modelDir] = process.argv.slice(2);
if (!onnxPath || !modelDir) {
  process.stderr.write("usage: ort-server.js MODEL.onnx MODEL_DIR\n");
  process.exit(2);
}
const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof import("onnxruntime-node");
const read = (f: string) => JSON.parse(readFileSync(join(modelDir, f), "utf8")) as Record<string, unknown>;
const config = read("config.json") as { id2label?: Record<string, string>; max_position_embeddings: number };
const tokenizer = new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
const labels = Object.entries(config.id2label ?? { 0: "LABEL_0", 1: "LABEL_1" })
  .sort(([a], [b]) => Number(a) - Number(b))
  .map(([, l]) => l);
const maxLength = config.max_position_embeddings;
const session = await ort.InferenceSession.create(onnxPath, { executionProviders: ["cpu"] });

async function predict(text: string): Promise<{ label: string; score: number }[]> {
  let ids = tokenizer.encode(text).ids as number[];
  if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), ids[ids.length - 1]];
  const n = ids.length;
  const out = await session.run({
    input_ids: new ort.Tensor(
      "int64",
      BigInt64Array.from(ids, (v) => BigInt(v)),
      [1, n],
    ),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
  });
  const logits = Array.from(out.logits.data as Float32Array);
  const top = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x, i) => ({ label: labels[i], score: x / sum })).sort((a, b) => b.score - a.score);
}

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/predict") {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let text: unknown;
    try {
      text = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { inputs?: unknown }).inputs;
    } catch {
      text = undefined;
    }
    if (typeof text !== "string") {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"inputs must be a string"}');
      return;
    }
    predict(text).then(
      (r) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(r)),
      (e: Error) =>
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: e.message })),
    );
  });
});
server.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  process.stderr.write(`listening on http://127.0.0.1:${a.port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
