/**
 * Keeps README.md, RESULTS.md and docs/*.md true to the code: every repo path they name exists, every `graft COMMAND`
 * is a command of the CLI, and every `--flag` on a `graft` command line in a code block is an option of that command.
 * The README stays short enough to read, and docs/metrics.md's table of metrics is the registry's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../src/cli/main.js";
import { METRICS } from "../src/metrics/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const README_MAX_LINES = 260;

/** Top-level folders whose paths the docs name; anything else (runs/, reviews.csv, ../shared/) is a user's path. */
const REPO_PATH = /(?<![\w./~-])((?:src|docs|examples|models|bench|scripts|test|native|data|\.ci)\/[\w.*/-]*)/g;
/** Fenced blocks in these languages (or none) hold shell commands. */
const SHELL_LANGS = new Set(["", "sh", "bash", "shell", "console", "text"]);

/** A piece of text the checks read: one line of a fenced block, or one inline code span. */
interface Segment {
  text: string;
  shell: boolean;
  line: number;
}

interface Parsed {
  segments: Segment[];
  links: { target: string; line: number }[];
}

function parseMarkdown(md: string): Parsed {
  const segments: Segment[] = [];
  const links: Parsed["links"] = [];
  let fence: string | null = null; // the language of the open fenced block
  md.split("\n").forEach((text, i) => {
    const line = i + 1;
    const open = /^\s*```\s*([\w-]*)/.exec(text);
    if (open) {
      fence = fence === null ? open[1].toLowerCase() : null;
      return;
    }
    if (fence !== null) {
      segments.push({ text, shell: SHELL_LANGS.has(fence), line });
      return;
    }
    for (const m of text.matchAll(/`([^`]+)`/g)) segments.push({ text: m[1], shell: true, line });
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ target: m[1], line });
  });
  return { segments, links };
}

/** Whether a repo-relative path exists; `*` in a segment matches any file name there. */
function pathExists(rel: string): boolean {
  const parts = rel.split("/").filter((p) => p !== "");
  const walk = (dir: string, k: number): boolean => {
    if (k === parts.length) return true;
    const part = parts[k];
    if (!part.includes("*")) {
      const next = join(dir, part);
      return existsSync(next) && walk(next, k + 1);
    }
    const re = new RegExp("^" + part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
    if (!existsSync(dir)) return false;
    return readdirSync(dir).some((name) => re.test(name) && walk(join(dir, name), k + 1));
  };
  return walk(root, 0);
}

/** How many names of each kind a check looked at (a parser that finds nothing must not pass). */
interface Counts {
  paths: number;
  links: number;
  commands: number;
  flags: number;
}

/** The command a `graft` command line names, its subcommand where it has them, and the flags after it. */
function commandProblems(tokens: string[], program: Command, counts: Counts): string[] {
  const problems: string[] = [];
  const at = tokens.indexOf("graft");
  if (at < 0 || at + 1 >= tokens.length || tokens[at + 1].startsWith("-")) return problems;
  const name = tokens[at + 1];
  counts.commands++;
  let cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
  if (!cmd) return [`graft ${name}: no such command`];
  let rest = tokens.slice(at + 2);
  if (cmd.commands.length > 0 && rest.length > 0 && !rest[0].startsWith("-")) {
    const subName = rest[0];
    const sub = cmd.commands.find((c) => c.name() === subName || c.aliases().includes(subName));
    if (!sub) return [`graft ${name} ${subName}: no such command`];
    cmd = sub;
    rest = rest.slice(1);
  }
  // `graft launch ... -- <graft command>`: what follows -- is a graft command line of its own
  const dashes = rest.indexOf("--");
  if (dashes >= 0) {
    problems.push(...commandProblems(["graft", ...rest.slice(dashes + 1)], program, counts));
    rest = rest.slice(0, dashes);
  }
  const known = new Set(cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined));
  known.add("--help");
  for (const token of rest) {
    const flag = /^\[?(--[A-Za-z0-9][\w-]*)/.exec(token)?.[1];
    if (flag) counts.flags++;
    if (flag && !known.has(flag))
      problems.push(`graft ${name}${cmd.name() === name ? "" : " " + cmd.name()}: no flag ${flag}`);
  }
  return problems;
}

/** The anchors GitHub makes for a page's headings: lowercase, punctuation dropped, spaces as hyphens. */
function headingSlugs(md: string): Set<string> {
  const slugs = new Set<string>();
  let inFence = false;
  for (const text of md.split("\n")) {
    if (/^\s*```/.test(text)) inFence = !inFence;
    const h = inFence ? null : /^#{1,6}\s+(.*)$/.exec(text);
    if (h)
      slugs.add(
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, "")
          .replace(/\s/g, "-"),
      );
  }
  return slugs;
}

/** Everything wrong in one Markdown file; `dir` is its folder (links resolve from it), paths resolve from the root. */
function checkMarkdown(md: string, dir: string, program: Command, counts: Counts = newCounts()): string[] {
  const problems: string[] = [];
  const { segments, links } = parseMarkdown(md);
  for (const seg of segments) {
    for (const m of seg.text.matchAll(REPO_PATH)) {
      const path = m[1].replace(/[.,:;]+$/, "");
      counts.paths++;
      if (!pathExists(path)) problems.push(`line ${seg.line}: ${path} does not exist`);
    }
    if (!seg.shell) continue;
    // one command per piece: a comment ends the line, && || | ; start another command
    const code = seg.text.replace(/(^|\s)#.*$/, "");
    for (const piece of code.split(/&&|\|\||[|;]/)) {
      const tokens = piece.trim().split(/\s+/);
      for (const p of commandProblems(tokens, program, counts)) problems.push(`line ${seg.line}: ${p}`);
    }
  }
  for (const { target, line } of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // URLs and anchors
    const [file, anchor] = target.split("#");
    counts.links++;
    const full = resolve(dir, file);
    if (!existsSync(full)) problems.push(`line ${line}: link ${target} does not exist`);
    else if (anchor && full.endsWith(".md") && !headingSlugs(readFileSync(full, "utf8")).has(anchor))
      problems.push(`line ${line}: link ${target}: no heading #${anchor} in ${file}`);
  }
  return problems;
}

function newCounts(): Counts {
  return { paths: 0, links: 0, commands: 0, flags: 0 };
}

function docFiles(): string[] {
  const files = ["README.md", "RESULTS.md"];
  if (existsSync(join(root, "docs"))) {
    for (const f of readdirSync(join(root, "docs")).sort()) if (f.endsWith(".md")) files.push(join("docs", f));
  }
  return files;
}

test("every path, command and flag named in README.md, RESULTS.md and docs/*.md exists", () => {
  const program = buildProgram();
  const files = docFiles();
  assert.ok(files.length > 2, "docs/ holds the guide's pages");
  const problems: string[] = [];
  const counts = newCounts();
  for (const f of files) {
    const full = join(root, f);
    assert.ok(existsSync(full), `${f} exists`);
    for (const p of checkMarkdown(readFileSync(full, "utf8"), dirname(full), program, counts))
      problems.push(`${f} ${p}`);
  }
  assert.deepEqual(problems, []);
  // the docs name many of each; a parser that stopped finding them would pass vacuously
  for (const [kind, n] of Object.entries(counts)) assert.ok(n >= 20, `only ${n} ${kind} checked`);
});

test("the README's commands table names every command of the CLI", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const missing = buildProgram()
    .commands.map((c) => c.name())
    .filter((name) => !new RegExp("^\\| `graft " + name + "[ `]", "m").test(readme));
  assert.deepEqual(missing, []);
});

test(`README.md is at most ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(join(root, "README.md"), "utf8").trimEnd().split("\n").length;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
});

test("the checker rejects a made-up path, link, anchor, command, subcommand and flag, and accepts real ones", () => {
  const program = buildProgram();
  const good = [
    "See `src/index.ts`, `native/kernels/gemm*.cc`, [the data page](docs/data.md) and [its TF-IDF](docs/data.md#tf-idf).",
    "```sh",
    "graft finetune --epochs 3   # --not-a-flag: comments are not checked",
    "graft data split reviews.csv --out runs/splits --seed 1 && graft report runs/x",
    "graft word2vec neighbors --vectors runs/vecs king -k 10",
    "```",
    "Run `graft tune --help`.",
  ].join("\n");
  assert.deepEqual(checkMarkdown(good, root, program), []);
  const bad = [
    "See `src/no/such/file.ts`, [a page](docs/no-such-page.md) and [a section](README.md#no-such-section).",
    "```sh",
    "graft frobnicate --fast",
    "graft data shuffle reviews.csv",
    "graft finetune --epochs 3 --no-such-flag",
    "```",
  ].join("\n");
  assert.deepEqual(checkMarkdown(bad, root, program), [
    "line 1: src/no/such/file.ts does not exist",
    "line 3: graft frobnicate: no such command",
    "line 4: graft data shuffle: no such command",
    "line 5: graft finetune: no flag --no-such-flag",
    "line 1: link docs/no-such-page.md does not exist",
    "line 1: link README.md#no-such-section: no heading #no-such-section in README.md",
  ]);
});

/** The markers around docs/metrics.md's generated table of registered metrics. */
const METRICS_BEGIN = "<!-- metrics table: generated from the registry -->";
const METRICS_END = "<!-- end of the metrics table -->";

/** docs/metrics.md's table of every registered metric, one row per registry entry, in the registry's order. */
function metricsTable(): string {
  const code = (names: readonly string[]) => names.map((n) => "`" + n + "`").join(", ");
  const refs = { one: "", many: " (one or more)", none: "" } as const;
  const rows = METRICS.map((e) =>
    [
      code([e.name]),
      code(e.aliases),
      e.prediction,
      e.reference === null ? "none" : e.reference + refs[e.references],
      e.direction ?? "(a table)",
      e.bootstrap === "stats" ? "yes" : "",
      e.description.replace(/\|/g, "\\|"),
    ].join(" | "),
  );
  return [
    "| metric | aliases | prediction | reference | better | intervals | what it is |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r} |`),
  ].join("\n");
}

test("docs/metrics.md lists every registered metric as the registry declares it", () => {
  const path = join(root, "docs", "metrics.md");
  const page = readFileSync(path, "utf8");
  const begin = page.indexOf(METRICS_BEGIN);
  const end = page.indexOf(METRICS_END);
  assert.ok(begin >= 0 && end > begin, `docs/metrics.md holds the markers ${METRICS_BEGIN} ... ${METRICS_END}`);
  const current = page.slice(begin + METRICS_BEGIN.length, end).trim();
  const want = metricsTable();
  // GRAFT_WRITE_DOCS=1 rewrites the table from the registry instead of failing
  if (current !== want && process.env.GRAFT_WRITE_DOCS === "1") {
    writeFileSync(path, page.slice(0, begin + METRICS_BEGIN.length) + "\n" + want + "\n" + page.slice(end));
    return;
  }
  assert.equal(
    current,
    want,
    "the table is stale: rewrite it with GRAFT_WRITE_DOCS=1 node --test dist/test/docs.test.js",
  );
});
