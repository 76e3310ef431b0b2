/** Loads the native addon (build/Release/graft_native.node), checking it implements every kernel. */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KERNEL_METHODS, type Backend, type HostKernels } from "./backend.js";
import { hostBackend } from "./host.js";
import { threadCount } from "../util/env.js";
import { packageRoot } from "../util/package-root.js";

export type SimdLevel = "portable" | "avx2" | "avx512";

/** What the addon module exports besides the backend. */
export interface NativeAddon {
  /** The kernels over typed arrays (hostBackend() makes the Backend over storages from them). */
  createBackend(): NativeKernels;
  /** Caps the SIMD level kernels run at (tests use it to run the fallbacks); returns the level now in effect. */
  setSimdLevel(level: SimdLevel): SimdLevel;
  /** The best level this CPU supports. */
  supportedSimdLevel: SimdLevel;
}

/** The addon's kernels, plus what it runs on. */
export type NativeKernels = HostKernels & { info(): Record<string, string | number> };

export interface NativeInfo {
  backend: Backend | null;
  /** The addon's kernels over typed arrays (the backend tests compare them with the reference kernels). */
  kernels: NativeKernels | null;
  addon: NativeAddon | null;
  reason: string;
}

let cached: NativeInfo | null = null;

function fail(reason: string): NativeInfo {
  return (cached = { backend: null, kernels: null, addon: null, reason });
}

export function loadNativeBackend(): NativeInfo {
  if (cached) return cached;
  let root: string;
  try {
    root = packageRoot();
  } catch (e) {
    return fail((e as Error).message);
  }
  const path = join(root, "build", "Release", "graft_native.node");
  if (!existsSync(path)) return fail(`addon not built (${path} is missing; run npm install)`);
  try {
    // the addon's pool reads GRAFT_THREADS; unset, it is the cores divided among mpirun's ranks on this host
    if (!process.env.GRAFT_THREADS && process.env.OMPI_COMM_WORLD_LOCAL_SIZE)
      process.env.GRAFT_THREADS = String(threadCount());
    const addon = createRequire(import.meta.url)(path) as Partial<NativeAddon>;
    if (typeof addon.createBackend !== "function") return fail("addon has no createBackend()");
    const k = addon.createBackend();
    const missing = KERNEL_METHODS.filter((m) => typeof (k as unknown as Record<string, unknown>)[m] !== "function");
    if (missing.length > 0)
      return fail(`addon lacks kernels: ${missing.join(", ")} (rebuild it: npx node-gyp rebuild)`);
    return (cached = { backend: hostBackend(k), kernels: k, addon: addon as NativeAddon, reason: "" });
  } catch (e) {
    return fail(`addon failed to load: ${(e as Error).message}`);
  }
}
