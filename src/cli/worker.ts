/** `graft worker`: run trials of distributed studies (graft tune --redis URL) from a BullMQ queue on this host. */
import type { Command } from "commander";
import { type Resolved, opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";
import { startRedisWorker } from "../tune/executors/redis-worker.js";

export const WORKER_SWITCHES = switchesOnly({
  redis: opt.value<string>({
    required: true,
    flag: "--redis <url>",
    help: "the Redis the studies use, e.g. redis://queue-host:6379",
    describe: "a redis:// URL",
    check: (v) => typeof v === "string" && /^rediss?:\/\//.test(v),
    parse: (s) => s,
  }),
  queue: opt.string({ flag: "--queue <name>", help: "BullMQ queue name", defaultHelp: "graft-trials" }),
  concurrency: opt.integer({
    min: 1,
    help: "trials at once on this host (each in its own process, cores/N threads)",
  }),
  threads: opt.integer({ min: 1, help: "threads per trial", defaultHelp: "cores / concurrency" }),
  lockDuration: opt.integer({
    min: 100,
    flag: "--lock-duration <ms>",
    help: "how long a silent worker keeps a trial before other workers take it over",
    defaultHelp: "30000",
  }),
  stalledInterval: opt.integer({
    min: 100,
    flag: "--stalled-interval <ms>",
    help: "how often this worker looks for trials of lost workers",
    defaultHelp: "30000",
  }),
  maxStalled: opt.integer({
    min: 0,
    help: "times a trial may be taken over from a lost worker before it fails",
    defaultHelp: "1",
  }),
  quiet: opt.boolean({ help: "no log lines" }),
});

async function work(f: Resolved<typeof WORKER_SWITCHES>): Promise<void> {
  const log = f.quiet ? () => {} : (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
  const worker = await startRedisWorker({
    url: f.redis,
    queue: f.queue,
    concurrency: f.concurrency,
    threadsPerTrial: f.threads,
    lockDurationMs: f.lockDuration,
    stalledIntervalMs: f.stalledInterval,
    maxStalledCount: f.maxStalled,
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
  const cmd = program
    .command("worker")
    .description("run trials of distributed tuning studies (graft tune --redis URL) from a BullMQ queue");
  addOptions(cmd, WORKER_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft worker --redis redis://queue-host:6379\n  graft worker --redis redis://queue-host:6379 --concurrency 4\n",
    )
    .action((_: unknown, command: Command) => work(resolveFlags(WORKER_SWITCHES, command)));
}
