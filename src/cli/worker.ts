/** `graft worker`: run trials of distributed studies (graft tune --redis URL) from a BullMQ queue on this host. */
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { startRedisWorker } from "../tune/executors/redis-worker.js";

interface WorkerFlags {
  redis: string;
  queue?: string;
  concurrency?: string;
  threads?: string;
  lockDuration?: string;
  stalledInterval?: string;
  maxStalled?: string;
  quiet?: boolean;
}

function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ArgumentError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

async function work(f: WorkerFlags): Promise<void> {
  if (!/^rediss?:\/\//.test(f.redis)) throw new ArgumentError(`--redis must be a redis:// URL, got "${f.redis}"`);
  const log = f.quiet ? () => {} : (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
  const worker = await startRedisWorker({
    url: f.redis,
    queue: f.queue,
    concurrency: int("--concurrency", f.concurrency, 1),
    threadsPerTrial: int("--threads", f.threads, 1),
    lockDurationMs: int("--lock-duration", f.lockDuration, 100),
    stalledIntervalMs: int("--stalled-interval", f.stalledInterval, 100),
    maxStalledCount: int("--max-stalled", f.maxStalled, 0),
    log,
  });
  log(`worker ${worker.name} waiting for trials on ${f.redis} (queue ${f.queue ?? "graft-trials"})`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      log("stopping: finishing the running trials (Ctrl-C again to quit now; their trials then run again elsewhere)");
      process.once("SIGINT", () => process.exit(130));
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await worker.close();
}

export function register(program: Command): void {
  program
    .command("worker")
    .description("run trials of distributed tuning studies (graft tune --redis URL) from a BullMQ queue")
    .requiredOption("--redis <url>", "the Redis the studies use, e.g. redis://queue-host:6379")
    .option("--queue <name>", "BullMQ queue name (default graft-trials)")
    .option("--concurrency <n>", "trials at once on this host (each in its own process, cores/N threads)")
    .option("--threads <n>", "threads per trial (default: cores / concurrency)")
    .option(
      "--lock-duration <ms>",
      "how long a silent worker keeps a trial before other workers take it over (default 30000)",
    )
    .option("--stalled-interval <ms>", "how often this worker looks for trials of lost workers (default 30000)")
    .option("--max-stalled <n>", "times a trial may be taken over from a lost worker before it fails (default 1)")
    .option("--quiet", "no log lines")
    .addHelpText(
      "after",
      "\nExamples:\n  graft worker --redis redis://queue-host:6379\n  graft worker --redis redis://queue-host:6379 --concurrency 4\n",
    )
    .action((f: WorkerFlags) => work(f));
}
