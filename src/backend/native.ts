/** Loads the native addon (build/Release/graft_native.node), checking it implements every Backend method. */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BACKEND_METHODS, type Backend } from "./backend.js";

export interface NativeInfo {
  backend: Backend | null;
  reason: string;
}

/** The package root: the nearest ancestor of this file holding package.json (src/ and dist/src/ both work). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

let cached: NativeInfo | null = null;

export function loadNativeBackend(): NativeInfo {
  if (cached) return cached;
  const path = join(packageRoot(), "build", "Release", "graft_native.node");
  if (!existsSync(path)) return (cached = { backend: null, reason: `addon not built (${path} is missing; run npm install)` });
  try {
    const addon = createRequire(import.meta.url)(path) as { createBackend?: () => Backend };
    if (typeof addon.createBackend !== "function") return (cached = { backend: null, reason: "addon has no createBackend()" });
    const b = addon.createBackend();
    const missing = BACKEND_METHODS.filter((m) => typeof (b as unknown as Record<string, unknown>)[m] !== "function");
    if (missing.length > 0) return (cached = { backend: null, reason: `addon lacks kernels: ${missing.join(", ")}` });
    return (cached = { backend: b, reason: "" });
  } catch (e) {
    return (cached = { backend: null, reason: `addon failed to load: ${(e as Error).message}` });
  }
}
