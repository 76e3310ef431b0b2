/** `graft download org/name`: fetches a hub model into the cache and prints its local directory. */
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { downloadModel, type FileGroup, type Progress } from "../io/hub.js";

const GROUPS: FileGroup[] = ["config", "weights", "tokenizer"];

interface Flags {
  revision: string;
  only?: string;
  cacheDir?: string;
  endpoint?: string;
  token?: string;
  offline?: boolean;
  quiet?: boolean;
  json?: boolean;
}

function size(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(2)} GB`;
}

/** Progress on stderr: a rewritten line per file on a terminal, one line per finished file otherwise. */
function reporter(quiet: boolean): (p: Progress) => void {
  const err = process.stderr;
  const tty = err.isTTY === true;
  let last = 0;
  return (p) => {
    if (quiet) return;
    if (p.phase === "cached") {
      err.write(`${p.file}: in cache\n`);
    } else if (p.phase === "done") {
      err.write(`${tty ? "\r\x1b[K" : ""}${p.file}: ${size(p.received)} downloaded\n`);
    } else if (tty && Date.now() - last > 100) {
      last = Date.now();
      const pct = Number.isFinite(p.total) && p.total > 0 ? ` (${((100 * p.received) / p.total).toFixed(0)}%)` : "";
      err.write(
        `\r\x1b[K${p.file}: ${size(p.received)}${Number.isFinite(p.total) ? ` of ${size(p.total)}` : ""}${pct}${p.phase === "resume" ? ", resumed" : ""}`,
      );
    } else if (!tty && p.phase === "resume" && p.received > 0 && last !== -1) {
      err.write(`${p.file}: resuming at ${size(p.received)}\n`);
      last = -1;
    }
  };
}

export function register(program: Command): void {
  program
    .command("download")
    .description("download a model from the Hugging Face hub (config, weights, tokenizer) into graft's cache")
    .argument("<model>", "hub id, e.g. bert-base-uncased or openai-community/gpt2")
    .option("--revision <rev>", "branch, tag or commit", "main")
    .option("--only <parts>", `comma-separated subset of ${GROUPS.join(", ")}`)
    .option("--cache-dir <dir>", "cache root (default: $GRAFT_CACHE or ~/.cache/graft)")
    .option("--endpoint <url>", "hub URL (default: $HF_ENDPOINT or https://huggingface.co)")
    .option("--token <token>", "access token for private or gated models (default: $HF_TOKEN)")
    .option("--offline", "use only the cache")
    .option("-q, --quiet", "print only the directory")
    .option("--json", "print { model, revision, dir } as JSON")
    .addHelpText(
      "after",
      "\nThe download resumes where it stopped if interrupted, and every file is checked against the hub's size and hash.\n" +
        "Examples:\n  graft download bert-base-uncased\n  graft download openai-community/gpt2 --only tokenizer\n  HF_ENDPOINT=https://hf-mirror.com graft download distilbert-base-uncased\n",
    )
    .action(async (model: string, flags: Flags) => {
      const want = flags.only === undefined ? GROUPS : flags.only.split(",").map((s) => s.trim());
      for (const w of want)
        if (!GROUPS.includes(w as FileGroup))
          throw new ArgumentError(`--only: "${w}" is not one of ${GROUPS.join(", ")}`);
      const dir = await downloadModel(model, {
        revision: flags.revision,
        want: want as FileGroup[],
        ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
        ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
        ...(flags.token !== undefined ? { token: flags.token } : {}),
        ...(flags.offline ? { offline: true } : {}),
        onProgress: reporter(flags.quiet === true || flags.json === true),
      });
      process.stdout.write(flags.json ? JSON.stringify({ model, revision: flags.revision, dir }) + "\n" : `${dir}\n`);
    });
}
