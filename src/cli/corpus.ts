/** `graft corpus`: builds a deduplicated pre-training corpus with a manifest of sources and licences (data/corpus-builder.ts). */
import type { Command } from "commander";
import { buildCorpus, checkCorpusSpec } from "../data/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, readConfigFile, resolveFlags } from "./options.js";

export const CORPUS_SWITCHES = switchesOnly({
  spec: opt.string({
    required: true,
    flag: "--spec <file>",
    help: "the sources (YAML or JSON): root, sources (name, files, format, licence, ...), minChars, excluded",
  }),
  output: opt.string({
    required: true,
    flag: "--output <dir>",
    help: "where corpus.jsonl, manifest.json and SOURCES.md go",
  }),
  root: opt.string({
    flag: "--root <dir>",
    help: "the directory the sources' files are relative to (default: the spec's root)",
  }),
  json: opt.boolean({ help: "print the manifest as JSON" }),
  quiet: opt.boolean({ help: "no progress output" }),
});

export function register(program: Command): void {
  const cmd = program
    .command("corpus")
    .description("build a pre-training corpus: many datasets' raw text into one JSONL, deduplicated, with a manifest");
  addOptions(cmd, CORPUS_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft corpus --spec examples/corpus-shared.yaml --output corpus/shared\n  graft pretrain --corpus corpus/shared/corpus.jsonl --preset mini --output runs/base\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(CORPUS_SWITCHES, command);
      const spec = checkCorpusSpec(readConfigFile(f.spec), f.spec);
      if (f.root) spec.root = f.root;
      const log = f.quiet || f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const m = await buildCorpus(spec, f.output, log);
      if (f.json) process.stdout.write(`${JSON.stringify(m)}\n`);
      else
        process.stdout.write(
          `corpus written to ${f.output}/corpus.jsonl: ${m.documents} documents, ${m.characters} characters from ${m.sources.length} sources (${m.duplicatesDropped} duplicates dropped); manifest.json and SOURCES.md beside it\n`,
        );
    });
}
