/** Messages between a trial process and its parent (the local pool, or a BullMQ worker). */
import type { TrialSpec } from "../context.js";
import type { ObjectiveRef } from "../objectives/ref.js";
import type { TrialOutcome } from "../types.js";

export type ToChild =
  | { type: "run"; spec: TrialSpec; objective: ObjectiveRef }
  | { type: "decision"; number: number; step: number; prune: boolean };

export type FromChild =
  | { type: "ready" }
  | { type: "report"; number: number; step: number; value: number }
  | { type: "attr"; number: number; key: string; value: unknown }
  | { type: "done"; number: number; outcome: TrialOutcome };
