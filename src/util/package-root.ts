import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * graft's package root (the nearest ancestor holding a package.json named "graft"), from src/ or dist/src/ alike:
 * where the native addons are built (build/Release) and the bundled model and data live.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p) && (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name === "graft") return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find graft's package root");
}
