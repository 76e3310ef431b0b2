/** The GRAFT_* environment variables, read in one place. */
import { cpus } from "node:os";

export type BackendChoice = "js" | "native" | "auto";

export function backendChoice(): BackendChoice {
  const v = (process.env.GRAFT_BACKEND ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "js" || v === "native") return v;
  throw new Error(`GRAFT_BACKEND must be "js", "native" or "auto", got "${process.env.GRAFT_BACKEND}"`);
}

/** Threads for native kernels: GRAFT_THREADS, default the CPU count. */
export function threadCount(): number {
  const v = process.env.GRAFT_THREADS;
  if (v !== undefined && v.trim() !== "") {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`GRAFT_THREADS must be a positive integer, got "${v}"`);
    return n;
  }
  return Math.max(1, cpus().length);
}

/** Where downloaded models are cached: GRAFT_CACHE, default ~/.cache/graft. */
export function cacheDir(): string {
  const v = process.env.GRAFT_CACHE;
  if (v && v.trim() !== "") return v;
  const home = process.env.HOME ?? process.env.USERPROFILE ?? ".";
  return `${home}/.cache/graft`;
}
