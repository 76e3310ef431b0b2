import { readFileSync } from "node:fs";

/** graft's version, from package.json (two levels above src/cli and dist/src/cli alike, found by walking up). */
export function version(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "graft" && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}
