/**
 * The entry point of a trial process (forked by the local pool and by BullMQ workers). It runs one trial at a time:
 * loads the named objective (once per distinct name and options), runs it, relays reports and attributes to the
 * parent and waits for each pruning decision, then sends the outcome. Its thread budget arrives as GRAFT_THREADS.
 */
import { runObjective, type Objective } from "../context.js";
import { loadObjective, type ObjectiveRef } from "../objectives/ref.js";
import type { FromChild, ToChild } from "./protocol.js";

const objectives = new Map<string, Promise<Objective>>();
const pending = new Map<string, (prune: boolean) => void>();

function send(m: FromChild): void {
  process.send?.(m);
}

function objectiveFor(ref: ObjectiveRef): Promise<Objective> {
  const key = JSON.stringify(ref);
  let p = objectives.get(key);
  if (!p) objectives.set(key, (p = loadObjective(ref)));
  return p;
}

process.on("message", (raw) => {
  const m = raw as ToChild;
  if (m.type === "decision") {
    const key = `${m.number}:${m.step}`;
    pending.get(key)?.(m.prune);
    pending.delete(key);
    return;
  }
  if (m.type === "run") {
    const { spec } = m;
    void (async () => {
      let outcome;
      try {
        const objective = await objectiveFor(m.objective);
        outcome = await runObjective(objective, spec, {
          report: (step, value) =>
            new Promise<boolean>((resolve) => {
              pending.set(`${spec.number}:${step}`, resolve);
              send({ type: "report", number: spec.number, step, value });
            }),
          attr: (key, value) => send({ type: "attr", number: spec.number, key, value }),
        });
      } catch (e) {
        outcome = { state: "failed" as const, error: (e as Error).message };
      }
      send({ type: "done", number: spec.number, outcome });
    })();
  }
});

// the parent going away ends the trial process
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
