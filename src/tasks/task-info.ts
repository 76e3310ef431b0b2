/** graft_task.json: what a fine-tuned model directory needs besides config.json to predict as it was trained. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DataError } from "../util/errors.js";

export const TASK_FILE = "graft_task.json";

export interface TaskInfo {
  /** The task kind (tasks/registry.ts). */
  task: string;
  labels: string[];
  maxLength: number;
  labelSeparator: string;
  /** Binary decision threshold on the positive class probability (tuned on validation), if any. */
  threshold: number | null;
  /** seq2seq: the text put before every source, the longest target and the beams of evaluation. */
  sourcePrefix?: string;
  maxTargetLength?: number;
  numBeams?: number;
}

/** Reads graft_task.json of a fine-tuned model directory (null when absent). */
export function readTaskInfo(dir: string): TaskInfo | null {
  const p = join(dir, TASK_FILE);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as TaskInfo;
  } catch (e) {
    throw new DataError(`${p} is not valid JSON (${(e as Error).message})`);
  }
}
