/** `graft download org/name`: fetches a hub model into the cache and prints its local directory. */
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { downloadModel, type FileGroup, type Progress } from "../io/hub.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

const GROUPS: FileGroup[] = ["config", "weights", "tokenizer"];

export const DOWNLOAD_SWITCHES = switchesOnly({
  revision: opt.string({ default: "main", nonEmpty: true, flag: "--revision <rev>", help: "branch, tag or commit" }),
  only: opt.list("string", {
    separator: ",",
    minLength: 1,
    flag: "--only <parts>",
    help: `comma-separated subset of ${GROUPS.join(", ")}`,
  }),
  cacheDir: opt.string({
    flag: "--cache-dir <dir>",
    help: "cache root",
    defaultHelp: "$GRAFT_CACHE or ~/.cache/graft",
  }),
  endpoint: opt.string({
    flag: "--endpoint <url>",
    help: "hub URL",
    defaultHelp: "$HF_ENDPOINT or https://huggingface.co",
  }),
  token: opt.string({
    flag: "--token <token>",
    help: "access token for private or gated models",
    defaultHelp: "$HF_TOKEN",
  }),
  offline: opt.boolean({ help: "use only the cache" }),
  quiet: opt.boolean({ flag: "-q, --quiet", help: "print only the directory" }),
  json: opt.boolean({ help: "print { model, revision, dir } as JSON" }),
});

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
  const cmd = program
    .command("download")
    .description("download a model from the Hugging Face hub (config, weights, tokenizer) into graft's cache")
    .argument("<model>", "hub id, e.g. bert-base-uncased or openai-community/gpt2");
  addOptions(cmd, DOWNLOAD_SWITCHES)
    .addHelpText(
      "after",
      "\nThe download resumes where it stopped if interrupted, and every file is checked against the hub's size and hash.\n" +
        "Examples:\n  graft download bert-base-uncased\n  graft download openai-community/gpt2 --only tokenizer\n  HF_ENDPOINT=https://hf-mirror.com graft download distilbert-base-uncased\n",
    )
    .action(async (model: string, _: unknown, command: Command) => {
      const flags = resolveFlags(DOWNLOAD_SWITCHES, command);
      const want = flags.only ?? GROUPS;
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
