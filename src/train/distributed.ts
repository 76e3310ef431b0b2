/**
 * The MPI world a data-parallel run trains in: the optional graft_mpi addon (build/Release/graft_mpi.node, built by
 * `npm install` where Open MPI is installed), loaded lazily, only when graft was started by `mpirun` with more than
 * one rank. Nothing else in graft requires it: without mpirun, `world()` is null and training is one process.
 *
 * All calls come from Node's main thread (MPI_THREAD_FUNNELED). Every collective runs under a deadline
 * (GRAFT_MPI_TIMEOUT seconds, default 300): a rank that died makes the others fail with a message, never hang —
 * and mpirun itself ends the job when one of its processes dies, naming the rank.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { ArgumentError } from "../util/errors.js";
import { packageRoot } from "../util/package-root.js";

/** What the graft_mpi addon exports (native/mpi/mpi_addon.cc). */
export interface MpiAddon {
  /** MPI_Init_thread (FUNNELED); the optional argument sets the collectives' deadline in seconds. */
  init(timeoutSeconds?: number): { rank: number; size: number; host: string; library: string; standard: string };
  finalize(): void;
  abort(code?: number): void;
  rank(): number;
  size(): number;
  /** In-place sum over all ranks, times `scale`. */
  allreduce(buf: Float32Array, scale?: number, timeoutSeconds?: number): void;
  /** Starts an in-place sum (times `scale` on completion); returns a handle for test/wait. */
  iallreduce(buf: Float32Array, scale?: number): number;
  /** Progresses a started all-reduce; true once it completed. */
  test(handle: number): boolean;
  /** Completes a started all-reduce (throws when the deadline passes). */
  wait(handle: number, timeoutSeconds?: number): void;
  /** The root's bytes into every rank's buffer. */
  broadcast(buf: Float32Array | Float64Array | Int32Array | Uint8Array, root?: number, timeoutSeconds?: number): void;
  barrier(timeoutSeconds?: number): void;
}

/** One process of a data-parallel run. */
export interface World {
  readonly rank: number;
  readonly size: number;
  /** Ranks on this host (Open MPI's local size; 1 when unknown). */
  readonly localSize: number;
  readonly host: string;
  /** The MPI library, e.g. "Open MPI v4.1.4". */
  readonly library: string;
  readonly mpi: MpiAddon;
  /** Ends every rank of the job (MPI_Abort) after printing `message` prefixed with this rank. */
  abort(message: string, code?: number): never;
}

/** Where the addon is built. */
export function mpiAddonPath(): string {
  return join(packageRoot(), "build", "Release", "graft_mpi.node");
}

let addon: MpiAddon | null | undefined;
let addonReason = "";

/** The graft_mpi addon, or null (with the reason in `mpiUnavailable()`) where it was not built or cannot load. */
export function loadMpi(): MpiAddon | null {
  if (addon !== undefined) return addon;
  const path = mpiAddonPath();
  if (!existsSync(path)) {
    addonReason = `the graft_mpi addon is not built (${path} is missing): install Open MPI (apt-get install libopenmpi-dev openmpi-bin) and run npm install again`;
    return (addon = null);
  }
  try {
    addon = createRequire(import.meta.url)(path) as MpiAddon;
  } catch (e) {
    addonReason = `the graft_mpi addon does not load (${(e as Error).message})`;
    addon = null;
  }
  return addon;
}

/** Why loadMpi() returned null ("" when it did not). */
export function mpiUnavailable(): string {
  loadMpi();
  return addonReason;
}

/** The world size and rank mpirun (Open MPI, or an MPICH/PMI launcher) gave this process; null when not launched so. */
export function launchedRanks(
  env: NodeJS.ProcessEnv = process.env,
): { size: number; rank: number; localSize: number } | null {
  const size = Number(env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? env.PMIX_SIZE ?? NaN);
  const rank = Number(env.OMPI_COMM_WORLD_RANK ?? env.PMI_RANK ?? env.PMIX_RANK ?? NaN);
  if (!Number.isInteger(size) || !Number.isInteger(rank)) return null;
  const local = Number(env.OMPI_COMM_WORLD_LOCAL_SIZE ?? env.MPI_LOCALNRANKS ?? 1);
  return { size, rank, localSize: Number.isInteger(local) && local > 0 ? local : 1 };
}

/** Seconds a collective may take before the watchdog fails it: GRAFT_MPI_TIMEOUT, default 300. */
export function collectiveTimeout(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.GRAFT_MPI_TIMEOUT;
  if (v === undefined || v.trim() === "") return 300;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new ArgumentError(`GRAFT_MPI_TIMEOUT must be a positive number of seconds, got "${v}"`);
  return n;
}

let current: World | null | undefined;

/**
 * The data-parallel world of this process: null unless it was launched by mpirun with more than one rank (one rank
 * trains exactly as a plain process does). The first call initializes MPI (and finalizes it at exit).
 */
export function world(): World | null {
  if (current !== undefined) return current;
  const launched = launchedRanks();
  // MPI runs FUNNELED: Node's worker threads (tuning trials, inference) never join the world
  if (!launched || launched.size <= 1 || !isMainThread) return (current = null);
  const mpi = loadMpi();
  if (!mpi)
    throw new ArgumentError(
      `graft was started by mpirun with ${launched.size} ranks, but ${mpiUnavailable()}`,
      "data-parallel training needs the graft_mpi addon; see docs/distributed.md",
    );
  const info = mpi.init(collectiveTimeout());
  const rank = info.rank;
  const w: World = {
    rank,
    size: info.size,
    localSize: launched.localSize,
    host: info.host,
    library: info.library,
    mpi,
    abort(message: string, code = 1): never {
      process.stderr.write(`graft rank ${rank}/${info.size} (${info.host}): ${message}\n`);
      mpi.abort(code);
      process.exit(code);
    },
  };
  // MPI must be finalized before the process ends, or mpirun reports the rank as failed
  process.once("exit", () => mpi.finalize());
  return (current = w);
}

/** Whether this process writes the run's files and prints (rank 0, or a process that is not data-parallel). */
export function isMainRank(): boolean {
  const w = world();
  return !w || w.rank === 0;
}

/** Whether `mpirun` is on the PATH. */
export function hasMpirun(): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d !== "" && existsSync(join(d, "mpirun")));
}

export interface MpirunOptions {
  /** Ranks to start. */
  np: number;
  /** A hostfile (Open MPI's format: `host slots=N` per line). */
  hostfile?: string;
  /** Extra mpirun arguments, before the command (e.g. --mca settings). */
  extra?: string[];
}

/**
 * The mpirun command line that starts `command` on `np` ranks (Open MPI): --oversubscribe so more ranks than cores
 * may share a host, and -x to pass graft's environment to every rank.
 */
export function mpirunArgs(opts: MpirunOptions, command: string[]): string[] {
  const args = ["-np", String(opts.np), "--oversubscribe"];
  if (opts.hostfile) args.push("--hostfile", opts.hostfile);
  for (const name of Object.keys(process.env)
    .filter((k) => k.startsWith("GRAFT_"))
    .sort())
    args.push("-x", name);
  return [...args, ...(opts.extra ?? []), ...command];
}

/**
 * The environment mpirun needs: as root, Open MPI refuses to start unless OMPI_ALLOW_RUN_AS_ROOT and
 * OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set (containers and CI run as root).
 */
export function mpirunEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return root ? { ...env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" } : { ...env };
}
