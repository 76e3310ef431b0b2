/**
 * What the benchmarks share: the machine line printed above every table, the Python interpreter that runs a peer,
 * and medians. This folder holds no benchmark (bench/main.ts lists only bench/*.js).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { loadNativeBackend } from "../../src/backend/native.js";

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const today = (): string => new Date().toISOString().slice(0, 10);

/** The CPU's model, its count, the SIMD flags that matter to the kernels (Linux: /proc/cpuinfo) and the addon's picks. */
export function cpuLine(): string {
  let model = "unknown CPU";
  let flags: string[] = [];
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? model;
    const all = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? "").split(" "));
    flags = [
      "avx2",
      "fma",
      "avx512f",
      "avx512bw",
      "avx512_vnni",
      "avx_vnni",
      "avx512_bf16",
      "amx_int8",
      "amx_bf16",
    ].filter((f) => all.has(f));
  } catch {
    // not Linux: the model stays unknown
  }
  const k = loadNativeBackend().kernels;
  const picks = k
    ? Object.entries(k.info()).filter(([key]) => ["simd", "gemm", "gemmBf16", "threads"].includes(key))
    : [];
  const cores = cpus().length;
  return `CPU ${model} (${cores} CPUs); flags ${flags.join(" ") || "none of avx2/avx512"}; ${picks.map(([a, b]) => `${a} ${b}`).join(", ")}`;
}

/**
 * The first Python that imports `modules` (default torch and transformers): $GRAFT_PEER_PYTHON, /tmp/peers/bin/python
 * (BENCHMARKS.md's recipe), python3; null when none does (the benchmark then shows graft alone).
 */
export function peerPython(modules = "torch, transformers"): string | null {
  const candidates = [process.env.GRAFT_PEER_PYTHON, "/tmp/peers/bin/python", "python3"].filter(
    (p): p is string => !!p,
  );
  for (const p of candidates)
    if (spawnSync(p, ["-c", `import ${modules}`], { encoding: "utf8" }).status === 0) return p;
  return null;
}

/** Runs a peer script and parses the JSON on its last line of output; a string (its last error line) when it failed. */
export function runPeer<T>(python: string, script: string, args: string[]): T | string {
  const p = spawnSync(python, [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "passive" },
    maxBuffer: 1 << 22,
  });
  if (p.status !== 0) return (p.stderr || p.error?.message || "failed").trim().split("\n").slice(-1)[0];
  return JSON.parse(p.stdout.trim().split("\n").slice(-1)[0]) as T;
}
