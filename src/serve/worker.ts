/**
 * A worker thread of `graft serve`: loads every served model once, then runs the jobs the main thread posts, one
 * message each way per job. Kernels run on the native thread pool, shared by the process (see engine.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  type GenerateJob,
  type GenerationDone,
  type Job,
  type ModelSource,
  loadModels,
  modelInfo,
  runGeneration,
  runJob,
} from "./jobs.js";

/** Main thread → worker. */
export type ToWorker =
  | { type: "job"; id: number; job: Job }
  | { type: "generate"; id: number; job: GenerateJob }
  | { type: "cancel"; id: number };
/** Worker → main thread. */
export type FromWorker =
  | { type: "ready"; models: ReturnType<typeof modelInfo>[] }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; value: unknown }
  | { type: "chunk"; id: number; text: string; tokenId: number }
  | { type: "done"; id: number; value: GenerationDone }
  | { type: "error"; id: number; message: string };

const port = parentPort;
if (port) {
  const post = (m: FromWorker) => port.postMessage(m);
  try {
    const models = loadModels((workerData as { models: ModelSource[] }).models);
    post({ type: "ready", models: [...models].map(([name, p]) => modelInfo(name, p)) });
    const fail = (id: number) => (e: unknown) =>
      post({ type: "error", id, message: e instanceof Error ? e.message : String(e) });
    // generations in progress: a cancel aborts one between two decoding steps
    const running = new Map<number, AbortController>();
    port.on("message", (m: ToWorker) => {
      if (m.type === "cancel") running.get(m.id)?.abort();
      else if (m.type === "job")
        runJob(models, m.job).then((value) => post({ type: "result", id: m.id, value }), fail(m.id));
      else {
        const ac = new AbortController();
        running.set(m.id, ac);
        runGeneration(models, m.job, ac.signal, (text, tokenId) => post({ type: "chunk", id: m.id, text, tokenId }))
          .then((value) => post({ type: "done", id: m.id, value }), fail(m.id))
          .finally(() => running.delete(m.id));
      }
    });
  } catch (e) {
    post({ type: "fatal", message: e instanceof Error ? e.message : String(e) });
  }
}
