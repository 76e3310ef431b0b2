/** Shared by the io/ and tokenizers/ tests: fixture paths and temp directories removed after the file's tests. */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";

/** The repository root (tests run from dist/test/<layer>/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export function fixture(...parts: string[]): string {
  return join(ROOT, "test", "fixtures", ...parts);
}

/** The team's shared real vocabularies, if present (GRAFT_SHARED_DATASETS, default ../shared/datasets). */
export function sharedDataset(...parts: string[]): string | null {
  const base = process.env.GRAFT_SHARED_DATASETS ?? join(ROOT, "..", "shared", "datasets");
  const p = join(base, ...parts);
  return existsSync(p) ? p : null;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = "graft-io-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
