/**
 * `npm run bench -- NAME [args]`: runs the benchmark bench/NAME.ts (compiled to dist/bench/NAME.js) with the
 * remaining arguments, or lists the benchmarks when no name (or an unknown one) is given. A benchmark is any
 * module in bench/ that runs when imported; the first sentence of its leading doc comment is its description
 * here, so adding a benchmark needs no change to this file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function benchmarks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(here).sort()) {
    if (!f.endsWith(".js") || f === "main.js") continue;
    const text = readFileSync(join(here, f), "utf8");
    const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
    const prose = doc
      .split("\n")
      .map((l) => l.replace(/^\s*\*\s?/, "").trim())
      .filter((l) => l !== "")
      .join(" ");
    const first = /^(.*?\.)(\s|$)/.exec(prose)?.[1] ?? prose;
    out.set(basename(f, ".js"), first);
  }
  return out;
}

function usage(): string {
  const list = benchmarks();
  const width = Math.max(0, ...[...list.keys()].map((k) => k.length));
  const lines = [...list].map(([name, desc]) => `  ${name.padEnd(width)}  ${desc}`);
  return `usage: npm run bench -- NAME [args]\n\nbenchmarks:\n${lines.join("\n")}\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h") {
  process.stdout.write(usage());
} else if (!benchmarks().has(name)) {
  process.stderr.write(`unknown benchmark "${name}"\n\n${usage()}`);
  process.exitCode = 1;
} else {
  const file = join(here, `${name}.js`);
  // the benchmark reads its own arguments from process.argv, as when run directly with node
  process.argv = [process.argv[0], file, ...rest];
  await import(pathToFileURL(file).href);
}
