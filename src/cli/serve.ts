/**
 * `graft serve`: an HTTP inference server over saved model directories (serve/server.ts), on 127.0.0.1 unless
 * --host says otherwise. SIGTERM or SIGINT shut it down gracefully: it stops accepting connections, answers the
 * requests in flight, and exits 0.
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { ArgumentError } from "../util/errors.js";
import { opt, type Resolved, switchesOnly } from "../util/options.js";
import { createServer } from "../serve/index.js";
import { REFERENCE_FILE, SampleLog, driftStatus, readDriftReference } from "../monitor/index.js";
import type { ModelSource } from "../serve/index.js";
import { addOptions, resolveFlags } from "./options.js";

export const SERVE_SWITCHES = switchesOnly({
  model: opt.list("string", {
    required: true,
    flag: "--model <dir...>",
    help: "a model directory to serve, or NAME=DIR (repeat for several; the first answers requests that name none)",
  }),
  host: opt.string({ default: "127.0.0.1", help: "address to listen on (0.0.0.0 for every interface)" }),
  port: opt.integer({ default: 8080, min: 0, max: 65535, help: "port to listen on (0: any free port)" }),
  workers: opt.integer({ default: 1, min: 0, help: "inference worker threads (0: on the server's own thread)" }),
  maxBatchTokens: opt.integer({ default: 16384, gt: 0, help: "padded tokens per batch (inputs × the longest)" }),
  maxBatchSize: opt.integer({ default: 32, gt: 0, help: "inputs per batch" }),
  maxWaitMs: opt.integer({
    default: 0,
    min: 0,
    help: "how long an input may wait for others to join its batch (batches also form while workers are busy)",
  }),
  maxQueue: opt.integer({ default: 1024, gt: 0, help: "requests waiting or running at once; one more gets 429" }),
  timeoutMs: opt.integer({ default: 30000, min: 0, help: "answer 504 to a request not done in this time (0: none)" }),
  apiKey: opt.string({
    flag: "--api-key <key>",
    help: "require Authorization: Bearer KEY (also from GRAFT_API_KEY)",
    defaultHelp: "none",
  }),
  maxInputs: opt.integer({ default: 256, gt: 0, help: "inputs per request (more: 413)" }),
  maxInputTokens: opt.integer({
    gt: 0,
    help: "tokens per input, special tokens included (longer: 413, or cut with --truncate)",
    defaultHelp: "the model's limit",
  }),
  truncate: opt.boolean({ help: "cut inputs over the token limit instead of answering 413 (a request may say)" }),
  maxBodyBytes: opt.integer({ default: 1048576, gt: 0, help: "request bodies over this size get 413" }),
  sampleLog: opt.string({
    flag: "--sample-log <file>",
    help: "record a sample of requests and answers in this SQLite file, for drift monitoring (GET /drift)",
    defaultHelp: "none: nothing is recorded",
  }),
  sampleRate: opt.number({
    default: 0.01,
    gt: 0,
    max: 1,
    help: "with --sample-log: the fraction of answered requests recorded",
  }),
  maxSamples: opt.integer({ default: 10000, gt: 0, help: "with --sample-log: samples kept (the oldest are dropped)" }),
  continuousBatching: opt.boolean({
    default: true,
    help: "decode each generation alone (default: generations join a running decode batch between steps)",
  }),
});

type ServeFlags = Resolved<typeof SERVE_SWITCHES>;

/** "NAME=DIR" or "DIR" (named after its last path part) → model sources, each name once. */
export function modelSources(entries: readonly string[]): ModelSource[] {
  const out: ModelSource[] = [];
  for (const e of entries) {
    const m = /^([A-Za-z0-9][\w.:-]*)=(.+)$/.exec(e);
    const dir = m ? m[2] : e;
    const name = m ? m[1] : basename(resolve(dir));
    if (out.some((s) => s.name === name))
      throw new ArgumentError(`--model: two models are named "${name}"`, "name them: --model NAME=DIR");
    out.push({ name, dir });
  }
  return out;
}

export function register(program: Command): void {
  const cmd = program
    .command("serve")
    .description(
      "serve saved models over HTTP: predict, embed, rerank (TEI's routes), generate, and OpenAI's embeddings and (chat) completions",
    );
  addOptions(cmd, SERVE_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft serve --model runs/sst2-bert/best\n  graft serve --model sentiment=runs/sst2-bert/best --model embed=models/graft-base --workers 2 --port 9000\n  curl -s localhost:8080/predict -H 'content-type: application/json' -d '{\"inputs\": \"a gorgeous, witty film\"}'\n",
    )
    .action(async (_: unknown, command: Command) => {
      const o: ServeFlags = resolveFlags(SERVE_SWITCHES, command);
      const sources = modelSources(o.model);
      // the server samples requests at --sample-rate; the log keeps every sample it is given
      const log = o.sampleLog ? await SampleLog.open(o.sampleLog, { sampleRate: 1, maxSamples: o.maxSamples }) : null;
      const references = new Map(
        sources
          .filter((s) => existsSync(join(s.dir, REFERENCE_FILE)))
          .map((s) => [s.name, readDriftReference(s.dir)] as const),
      );
      const app = await createServer({
        models: sources,
        ...(log
          ? {
              sampleRate: o.sampleRate,
              onServed: log.hook(),
              drift: {
                status: (name: string) => {
                  const reference = references.get(name);
                  return reference ? driftStatus(reference, log, { model: name }) : null;
                },
              },
            }
          : {}),
        workers: o.workers,
        maxBatchTokens: o.maxBatchTokens,
        maxBatchSize: o.maxBatchSize,
        continuousBatching: o.continuousBatching,
        maxWaitMs: o.maxWaitMs,
        maxQueue: o.maxQueue,
        timeoutMs: o.timeoutMs,
        apiKey: o.apiKey ?? (process.env.GRAFT_API_KEY || undefined),
        maxInputs: o.maxInputs,
        maxInputTokens: o.maxInputTokens ?? undefined,
        truncate: o.truncate ?? false,
        bodyLimit: o.maxBodyBytes,
      });
      const address = await app.listen({ host: o.host, port: o.port });
      process.stderr.write(`graft serve: listening on ${address} (models: ${o.model.join(", ")})\n`);
      if (log)
        process.stderr.write(
          `graft serve: recording ${o.sampleRate * 100}% of requests in ${o.sampleLog}; drift references: ${references.size ? [...references.keys()].join(", ") : "none (graft monitor --reference writes one)"}\n`,
        );
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          process.stderr.write(`graft serve: ${signal}: finishing the requests in flight, then exiting\n`);
          app.close().then(
            () => {
              log?.close();
              done();
            },
            (e: unknown) => {
              process.stderr.write(`graft serve: ${(e as Error).message}\n`);
              log?.close();
              done();
            },
          );
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
    });
}
