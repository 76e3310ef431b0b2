/**
 * What ships with graft so the quick start needs no download: the pre-trained base model (models/graft-base,
 * made with `graft pretrain`) and a sample of an openly licensed text-classification dataset (data/sms-spam).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** graft's package root (where package.json says name "graft"), from src/cli or dist/src/cli alike. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p) && (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name === "graft") return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find graft's package root");
}

export const bundled = {
  model: () => join(packageRoot(), "models", "graft-base"),
  train: () => join(packageRoot(), "data", "sms-spam", "train.tsv"),
  test: () => join(packageRoot(), "data", "sms-spam", "test.tsv"),
};
