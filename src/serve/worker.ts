/**
 * A worker thread of `graft serve`: loads every served model once, then runs the jobs the main thread posts, one
 * message each way per job. Kernels run on the native thread pool, shared by the process (see engine.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { type Job, type ModelSource, loadModels, modelInfo, runJob } from "./jobs.js";

/** Main thread → worker. */
export type ToWorker = { type: "job"; id: number; job: Job };
/** Worker → main thread. */
export type FromWorker =
  | { type: "ready"; models: ReturnType<typeof modelInfo>[] }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; message: string };

const port = parentPort;
if (port) {
  const post = (m: FromWorker) => port.postMessage(m);
  try {
    const models = loadModels((workerData as { models: ModelSource[] }).models);
    post({ type: "ready", models: [...models].map(([name, p]) => modelInfo(name, p)) });
    port.on("message", (m: ToWorker) => {
      runJob(models, m.job).then(
        (value) => post({ type: "result", id: m.id, value }),
        (e: unknown) => post({ type: "error", id: m.id, message: e instanceof Error ? e.message : String(e) }),
      );
    });
  } catch (e) {
    post({ type: "fatal", message: e instanceof Error ? e.message : String(e) });
  }
}
