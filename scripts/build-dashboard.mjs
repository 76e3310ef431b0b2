// Bundles the dashboard's front end (src/dashboard/ui: Preact + uPlot) into dist/src/dashboard/assets/ with esbuild.
// Part of `npm run build`, after `tsc -p src/dashboard/ui/tsconfig.json` type-checks it (DOM types); nothing is
// fetched at run time.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/src/dashboard/assets");
const require = createRequire(import.meta.url);
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.warn("graft: esbuild is not installed (a dev dependency); the dashboard's front end was not built");
  process.exit(0);
}
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(root, "src/dashboard/ui/main.tsx")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  outfile: join(out, "app.js"),
  logLevel: "warning",
  legalComments: "none",
});
const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
writeFileSync(join(out, "app.css"), `${uplotCss}\n${readFileSync(join(root, "src/dashboard/ui/style.css"), "utf8")}`);
