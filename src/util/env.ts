/** The GRAFT_* environment variables, read in one place. */
import { cpus, totalmem } from "node:os";

export type BackendChoice = "js" | "native" | "auto";

export function backendChoice(): BackendChoice {
  const v = (process.env.GRAFT_BACKEND ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "js" || v === "native") return v;
  throw new Error(`GRAFT_BACKEND must be "js", "native" or "auto", got "${process.env.GRAFT_BACKEND}"`);
}

/**
 * Threads for native kernels: GRAFT_THREADS, default the CPU count — divided among the ranks mpirun started on this
 * host (OMPI_COMM_WORLD_LOCAL_SIZE), so N data-parallel ranks on one machine do not oversubscribe it.
 */
export function threadCount(): number {
  const v = process.env.GRAFT_THREADS;
  if (v !== undefined && v.trim() !== "") {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`GRAFT_THREADS must be a positive integer, got "${v}"`);
    return n;
  }
  const local = Number(process.env.OMPI_COMM_WORLD_LOCAL_SIZE ?? 1);
  return Math.max(1, Math.floor(cpus().length / (Number.isInteger(local) && local > 0 ? local : 1)));
}

/**
 * The memory a model's weights may take, in bytes: GRAFT_MAX_MEMORY (bytes, or with a K/M/G/T suffix in powers of
 * 1024: "512M", "2G"), default the machine's total memory. `source` says which, for messages.
 */
export function maxMemory(): { bytes: number; source: string } {
  const v = process.env.GRAFT_MAX_MEMORY;
  if (v !== undefined && v.trim() !== "") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(v);
    if (!m) throw new Error(`GRAFT_MAX_MEMORY must be a number of bytes such as 2000000000 or 2G, got "${v}"`);
    const scale = 1024 ** " KMGT".indexOf((m[2] || " ").toUpperCase());
    return { bytes: Number(m[1]) * scale, source: `GRAFT_MAX_MEMORY=${v.trim()}` };
  }
  return { bytes: totalmem(), source: "this machine's memory" };
}

/** Where downloaded models are cached: GRAFT_CACHE, default ~/.cache/graft. */
export function cacheDir(): string {
  const v = process.env.GRAFT_CACHE;
  if (v && v.trim() !== "") return v;
  const home = process.env.HOME ?? process.env.USERPROFILE ?? ".";
  return `${home}/.cache/graft`;
}

/** Which attention implementation scaledDotProductAttention uses: GRAFT_ATTENTION=auto|fused|unfused, default auto. */
export function attentionChoice(): "auto" | "fused" | "unfused" {
  const v = (process.env.GRAFT_ATTENTION ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "fused" || v === "unfused") return v;
  throw new Error(`GRAFT_ATTENTION must be "auto", "fused" or "unfused", got "${process.env.GRAFT_ATTENTION}"`);
}
