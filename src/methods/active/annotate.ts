/**
 * The annotation loop of active learning, one round per call, resumable across days. A round reads back the batch
 * the previous call wrote (now labelled by a person), adds it to the labelled set, trains the head on everything
 * labelled so far, asks the strategy for the next batch and writes it to a file with the model's guess; the state
 * file (written atomically) holds what the next call needs: the pool ids labelled so far with their labels, the
 * round, the seed, the model and pool, and the batch waiting to be labelled.
 *
 * Batch files: CSV (columns id, text, guess, confidence, label) or JSONL ({"id", "text", "guess", "confidence",
 * "label"}) for classification; JSONL ({"id", "words", "guess", "confidence", "tags"}) for NER. The person fills in
 * label (or tags); every row must be labelled, and a row that is not is an error naming the file, line and field.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, DataError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import { writeFileAtomic, writeJsonAtomic } from "../../util/atomic.js";
import {
  readConll,
  readDelimited,
  readExamples,
  readLines,
  resolveDelimited,
  type ExampleReadOptions,
} from "../../data/index.js";
import type { LabelledData, SelectTask } from "../features.js";
import type { FinetuneConfig } from "../../tasks/index.js";
import { argmax, HeadLearner, itemFeatures, type HeadOptions, type Learner } from "./learner.js";
import { FinetuneLearner, type PoolInput } from "./finetune-learner.js";
import { needs, selectBatch, type Aggregate, type PoolView, type Strategy } from "./strategies.js";

export const STATE_FILE = "state.json";

/** The state file of an annotation loop. */
export interface AnnotateState {
  version: 1;
  model: string;
  pool: string;
  task: SelectTask;
  labels: string[];
  strategy: Strategy;
  batch: number;
  seed: number;
  format: "csv" | "jsonl";
  /** The head on frozen features, or a fine-tuning run per round (with `config`'s settings). */
  learner: "head" | "finetune";
  config: Partial<FinetuneConfig>;
  /** Rounds completed (batches read back). */
  round: number;
  /** Pool id → its label (classification) or tags (NER), in the order they were labelled. */
  labelled: [number, string | string[]][];
  /** The batch written and not yet read back. */
  pending: { file: string; ids: number[] } | null;
}

export interface AnnotateOptions {
  /** The loop's directory: state.json, the batch files, labelled.jsonl. */
  dir: string;
  /** Needed to start a loop (later calls read them from the state; a different value is an error). */
  model?: string;
  pool?: string;
  task?: SelectTask;
  labels?: string[];
  strategy?: Strategy;
  batch?: number;
  seed?: number;
  format?: "csv" | "jsonl";
  read?: ExampleReadOptions;
  maxLength?: number;
  mcPasses?: number;
  aggregate?: Aggregate;
  head?: HeadOptions;
  learner?: "head" | "finetune";
  /** Fine-tuning settings of the finetune learner (first call; then from the state). */
  config?: Partial<FinetuneConfig>;
  log?: (line: string) => void;
}

export interface AnnotateResult {
  state: AnnotateState;
  /** Examples read back from the labelled batch this call (0 on the first call). */
  added: number;
  /** The new batch file, or null when the pool is used up. */
  batchFile: string | null;
  batchSize: number;
  /** The strategy that picked this batch ("random" for a cold start with nothing labelled). */
  pickedBy: Strategy;
}

/** Reads the pool's inputs (labels, if the file has them, are ignored). */
export async function readPool(file: string, task: SelectTask, read?: ExampleReadOptions): Promise<PoolInput[]> {
  if (task === "ner") {
    const { sentences } = await readConll(file, { onBadRow: read?.onBadRow });
    return sentences.filter((s) => s.tokens.length > 0).map((s) => s.tokens);
  }
  const { examples } = await readExamples(file, read);
  return examples.map((e) => e.text);
}

function loadState(dir: string): AnnotateState | null {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return null;
  let s: AnnotateState;
  try {
    s = JSON.parse(readFileSync(file, "utf8")) as AnnotateState;
  } catch (e) {
    throw new DataError(`not valid JSON (${(e as Error).message})`, { file });
  }
  if (s.version !== 1) throw new DataError(`unknown state version ${String(s.version)}`, { file, field: "version" });
  return s;
}

/** The state of a new loop from the options, or the saved one (checking that the options do not contradict it). */
function stateOf(o: AnnotateOptions): AnnotateState {
  const saved = loadState(o.dir);
  if (saved) {
    const same = (
      key: "model" | "pool" | "task" | "strategy" | "batch" | "seed" | "format" | "learner",
      v: unknown,
      norm = (x: unknown) => x,
    ) => {
      if (v !== undefined && norm(v) !== norm(saved[key]))
        throw new ArgumentError(
          `${join(o.dir, STATE_FILE)} continues a loop with ${key} ${JSON.stringify(saved[key])}, not ${JSON.stringify(v)}`,
          "leave the option out to continue, or start a new loop in another directory",
        );
    };
    const path = (x: unknown) => resolve(String(x));
    same("pool", o.pool, path);
    same("task", o.task);
    same("strategy", o.strategy);
    same("batch", o.batch);
    same("seed", o.seed);
    same("format", o.format);
    same("learner", o.learner);
    if (o.model !== undefined && path(o.model) !== path(saved.model) && o.model !== saved.model)
      throw new ArgumentError(`${join(o.dir, STATE_FILE)} continues a loop with model ${saved.model}, not ${o.model}`);
    return saved;
  }
  if (!o.model || !o.pool) throw new ArgumentError("a new annotation loop needs --model and --pool");
  if (!o.labels || o.labels.length < 2) throw new ArgumentError("a new annotation loop needs --labels (at least two)");
  const task = o.task ?? "classification";
  const format = o.format ?? (task === "ner" ? "jsonl" : "csv");
  if (task === "ner" && format !== "jsonl") throw new ArgumentError("NER batches are JSONL (--format jsonl)");
  return {
    version: 1,
    model: existsSync(o.model) ? resolve(o.model) : o.model,
    pool: resolve(o.pool),
    task,
    labels: [...o.labels],
    strategy: o.strategy ?? "entropy",
    batch: o.batch ?? 50,
    seed: o.seed ?? 1,
    format,
    learner: o.learner ?? "head",
    config: o.config ?? {},
    round: 0,
    labelled: [],
    pending: null,
  };
}

/** A labelled batch file read back: pool id → label or tags; every problem names the file, line and field. */
export async function readLabelledBatch(
  file: string,
  state: Pick<AnnotateState, "task" | "labels" | "format">,
  pending: readonly number[],
  inputs: readonly PoolInput[],
): Promise<Map<number, string | string[]>> {
  if (!existsSync(file))
    throw new DataError("the batch file is missing", { file }, "label the batch written by the last call, then rerun");
  const known = new Set(state.labels);
  const expected = new Set(pending);
  const out = new Map<number, string | string[]>();
  const record = (line: number, fields: Record<string, unknown>) => {
    const where = (field: string) => ({ file, line, field });
    const rawId = fields.id;
    const id = typeof rawId === "number" ? rawId : Number(String(rawId ?? "").trim());
    if (rawId === undefined || rawId === "" || !Number.isInteger(id))
      throw new DataError(`not a pool id: ${JSON.stringify(rawId)}`, where("id"));
    if (!expected.has(id)) throw new DataError(`pool id ${id} is not in this batch`, where("id"));
    if (out.has(id)) throw new DataError(`pool id ${id} appears twice`, where("id"));
    if (state.task === "ner") {
      const tags = fields.tags;
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string"))
        throw new DataError("needs a list of tags (strings), one per word", where("tags"));
      const words = inputs[id] as string[];
      if (tags.length !== words.length)
        throw new DataError(`${tags.length} tags for ${words.length} words`, where("tags"));
      for (const t of tags as string[])
        if (!known.has(t)) throw new DataError(`unknown tag "${t}" (known: ${state.labels.join(", ")})`, where("tags"));
      out.set(id, [...(tags as string[])]);
      return;
    }
    const label = typeof fields.label === "string" ? fields.label.trim() : fields.label;
    if (label === undefined || label === null || label === "")
      throw new DataError("no label (every row of the batch must be labelled)", where("label"));
    if (typeof label !== "string" || !known.has(label))
      throw new DataError(`unknown label ${JSON.stringify(label)} (known: ${state.labels.join(", ")})`, where("label"));
    out.set(id, label);
  };
  if (state.format === "jsonl") {
    for await (const l of readLines(file)) {
      if (l.text.trim() === "") continue;
      let obj: unknown;
      try {
        obj = JSON.parse(l.text);
      } catch (e) {
        throw new DataError(`not valid JSON (${(e as Error).message})`, { file, line: l.line });
      }
      if (typeof obj !== "object" || obj === null || Array.isArray(obj))
        throw new DataError("each line must be a JSON object", { file, line: l.line });
      record(l.line, obj as Record<string, unknown>);
    }
  } else {
    let header: string[] | null = null;
    for await (const r of readDelimited(file, resolveDelimited(file, { delimiter: ",", quote: '"' }))) {
      if (!header) {
        header = r.fields.map((f) => f.trim());
        for (const need of ["id", "label"])
          if (!header.includes(need)) throw new DataError(`the header has no "${need}" column`, { file, line: r.line });
        continue;
      }
      if (r.fields.length === 1 && r.fields[0].trim() === "") continue;
      record(r.line, Object.fromEntries(header.map((h, j) => [h, r.fields[j]])));
    }
  }
  const missing = pending.filter((id) => !out.has(id));
  if (missing.length)
    throw new DataError(
      `${missing.length} of the batch's ${pending.length} examples are missing (pool ids ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""})`,
      { file },
    );
  return out;
}

const csvField = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** One round of the loop (see the file's header). */
export async function annotateRound(o: AnnotateOptions): Promise<AnnotateResult> {
  const log = o.log ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const state = stateOf(o);
  const inputs = await readPool(state.pool, state.task, o.read);
  if (inputs.length === 0) throw new DataError("the pool has no examples", { file: state.pool });
  const stateFile = join(o.dir, STATE_FILE);
  const save = () => writeJsonAtomic(stateFile, state);
  let added = 0;
  if (state.pending) {
    const got = await readLabelledBatch(join(o.dir, state.pending.file), state, state.pending.ids, inputs);
    // in the batch's own order, so labelled.jsonl and the state read the same on every machine
    for (const id of state.pending.ids) state.labelled.push([id, got.get(id)!]);
    added = got.size;
    state.round += 1;
    state.pending = null;
    save();
    log(`read ${added} labelled examples; ${state.labelled.length} labelled in all after round ${state.round}`);
  }
  const labelIndex = new Map(state.labels.map((l, i) => [l, i]));
  writeFileAtomic(
    join(o.dir, "labelled.jsonl"),
    state.labelled
      .map(([id, y]) =>
        JSON.stringify(state.task === "ner" ? { words: inputs[id], tags: y } : { text: inputs[id], label: y }),
      )
      .join("\n") + (state.labelled.length ? "\n" : ""),
  );
  const done = new Set(state.labelled.map(([id]) => id));
  const candidates = inputs.map((_, i) => i).filter((i) => !done.has(i));
  if (candidates.length === 0) {
    save();
    log("every example of the pool is labelled");
    return { state, added, batchFile: null, batchSize: 0, pickedBy: state.strategy };
  }
  const data: LabelledData =
    state.task === "ner"
      ? {
          task: "ner",
          labels: state.labels,
          sentences: inputs as string[][],
          y: new Int32Array((inputs as string[][]).flat().length),
        }
      : {
          task: "classification",
          labels: state.labels,
          texts: (inputs as string[]).map((text) => ({ text })),
          y: new Int32Array(inputs.length),
        };
  const makeLearner = async (): Promise<Learner> => {
    if (state.learner === "finetune")
      return new FinetuneLearner({
        model: state.model,
        task: state.task,
        labels: state.labels,
        inputs,
        workDir: join(o.dir, "learner"),
        config: state.config,
        maxLength: o.maxLength,
        log: (line) => log(`  ${line}`),
      });
    const { items } = await itemFeatures(state.model, data, { maxLength: o.maxLength });
    return new HeadLearner(state.labels.length, items, o.head);
  };
  const rng = new Rng(state.seed * 7919 + state.round);
  const k = Math.min(state.batch, candidates.length);
  let picked: number[];
  let pickedBy = state.strategy;
  let guesses: Map<number, { guess: string | string[]; confidence: number }> | null = null;
  const labelledIds = state.labelled.map(([id]) => id);
  if (labelledIds.length === 0) {
    pickedBy = "random";
    picked = selectBatch("random", { candidates, labelled: [] }, k, rng);
  } else {
    const learner = await makeLearner();
    const targets = state.labelled.map(([, y]) =>
      Array.isArray(y) ? y.map((t) => labelIndex.get(t)!) : [labelIndex.get(y)!],
    );
    await learner.fit(labelledIds, targets, state.seed * 1000 + state.round);
    const probs = await learner.predict(candidates);
    const view: PoolView = { candidates, labelled: labelledIds };
    const need = needs(state.strategy);
    if (need.probs) view.probs = new Map(candidates.map((id, j) => [id, probs[j]]));
    if (need.passes) view.passes = await learner.passes(candidates, o.mcPasses ?? 10);
    if (need.embeddings) view.embeddings = await learner.embeddings();
    picked = selectBatch(state.strategy, view, k, rng, o.aggregate);
    const byId = new Map(candidates.map((id, j) => [id, probs[j]]));
    guesses = new Map(
      picked.map((id) => {
        const p = byId.get(id)!;
        const tags = p.map((u) => state.labels[argmax(u)]);
        return [
          id,
          {
            guess: state.task === "ner" ? tags : tags[0],
            confidence: Math.min(...p.map((u) => Math.max(...u))),
          },
        ];
      }),
    );
  }
  const file = `batch-${String(state.round + 1).padStart(3, "0")}.${state.format}`;
  const rows = picked.map((id) => ({
    id,
    input: inputs[id],
    ...(guesses?.get(id) ?? { guess: "", confidence: null }),
  }));
  let text: string;
  if (state.format === "jsonl")
    text = rows
      .map((r) =>
        JSON.stringify(
          state.task === "ner"
            ? { id: r.id, words: r.input, guess: r.guess || null, confidence: r.confidence, tags: null }
            : { id: r.id, text: r.input, guess: r.guess || null, confidence: r.confidence, label: "" },
        ),
      )
      .join("\n");
  else
    text = ["id,text,guess,confidence,label"]
      .concat(
        rows.map((r) =>
          [
            String(r.id),
            csvField(r.input as string),
            csvField(r.guess as string),
            r.confidence === null ? "" : r.confidence.toFixed(4),
            "",
          ].join(","),
        ),
      )
      .join("\n");
  writeFileSync(join(o.dir, file), text + "\n");
  state.pending = { file, ids: picked };
  save();
  log(`round ${state.round + 1}: ${picked.length} examples picked by ${pickedBy} → ${join(o.dir, file)}`);
  return { state, added, batchFile: join(o.dir, file), batchSize: picked.length, pickedBy };
}
