/**
 * Supervised fine-tuning data: JSONL records in one of three shapes, each becoming token ids and the tokens the
 * loss learns (labels; IGNORE_INDEX elsewhere):
 *   {"text": ...}                       every token (then the eos token) is learned
 *   {"prompt": ..., "completion": ...}  completion-only: the completion's tokens and the eos token
 *   {"messages": [{role, content}...]}  assistant-only: the tokens of assistant turns, found by rendering the chat
 *                                       template (chat/masks.ts), so any template works, markers or not
 * (`trainOn: "all"` learns every token of every shape.) A record longer than the context (maxLength tokens) is
 * truncated from the LEFT — its end, where the answer is, is kept — and counted in a warning; with
 * `overLength: "reject"` it is an error naming the file and line instead. A record left with no token to learn is
 * skipped and counted.
 *
 * Packing (`--packing`) puts several samples in one row of at most maxLength tokens, with positions restarting at 0
 * and a segment id (1, 2, ...) per sample, which the model's attention uses so no sample sees another.
 */
import { readFileSync } from "node:fs";
import { DataError } from "../../../util/errors.js";
import type { Rng } from "../../../util/rng.js";
import type { Tokenizer } from "../../../tokenizers/index.js";
import { IGNORE_INDEX } from "../../../train/index.js";
import {
  type ChatMessage,
  type ChatTemplate,
  ChatTemplateError,
  checkConversation,
  tokenizeChat,
} from "../../../chat/index.js";
import type { EncodedRow } from "../../encode.js";

export type SftRecord =
  | { shape: "text"; text: string; line: number }
  | { shape: "prompt"; prompt: string; completion: string; line: number }
  | { shape: "messages"; messages: ChatMessage[]; line: number };

/** A tokenized sample: ids and labels (IGNORE_INDEX on tokens not learned; the first token is never a target). */
export interface SftRow extends EncodedRow {
  labels: number[];
}

export interface SftEncodeOptions {
  tokenizer: Tokenizer;
  /** Needed by {messages} records (null: such a record is an error suggesting --chat-template). */
  template: ChatTemplate | null;
  maxLength: number;
  trainOn: "auto" | "all";
  overLength: "truncate" | "reject";
}

/** What encoding a file dropped or cut, for data.json and the run's warnings. */
export interface SftEncodeReport {
  file: string;
  records: number;
  truncated: number;
  tokensDropped: number;
  skippedNothingToLearn: number;
}

const SHAPES = "{text}, {prompt, completion} or {messages: [{role, content}, ...]}";

/** Reads and validates a JSONL file of sft records; errors name the file, line and field. */
export function readSftFile(file: string): SftRecord[] {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (e) {
    throw new DataError(`cannot read the file (${(e as Error).message})`, { file });
  }
  const out: SftRecord[] = [];
  raw.split("\n").forEach((l, i) => {
    const line = i + 1;
    if (l.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new DataError(`not valid JSON (${(e as Error).message})`, { file, line });
    }
    if (!v || typeof v !== "object" || Array.isArray(v))
      throw new DataError(`each line must be a JSON object: ${SHAPES}`, { file, line });
    const r = v as Record<string, unknown>;
    const str = (field: string): string => {
      if (typeof r[field] !== "string") throw new DataError("must be a string", { file, line, field });
      return r[field] as string;
    };
    if ("messages" in r) out.push({ shape: "messages", messages: checkConversation(r.messages, { file, line }), line });
    else if ("prompt" in r || "completion" in r)
      out.push({ shape: "prompt", prompt: str("prompt"), completion: str("completion"), line });
    else if ("text" in r) out.push({ shape: "text", text: str("text"), line });
    else
      throw new DataError(`a record needs ${SHAPES}; found fields ${Object.keys(r).join(", ") || "none"}`, {
        file,
        line,
      });
  });
  if (out.length === 0) throw new DataError("no records", { file });
  return out;
}

async function idsAndMask(
  rec: SftRecord,
  o: SftEncodeOptions,
  file: string,
): Promise<{ ids: number[]; learn: number[] }> {
  const tok = o.tokenizer;
  const eos = tok.specialTokenId("eos");
  const all = o.trainOn === "all";
  switch (rec.shape) {
    case "text": {
      const ids = (await tok.encode(rec.text, null, { addSpecialTokens: true })).ids;
      if (eos !== null && ids[ids.length - 1] !== eos) ids.push(eos);
      return { ids, learn: ids.map(() => 1) };
    }
    case "prompt": {
      const p = (await tok.encode(rec.prompt, null, { addSpecialTokens: true })).ids;
      const c = (await tok.encode(rec.completion, null, { addSpecialTokens: false })).ids;
      if (eos !== null) c.push(eos);
      return { ids: [...p, ...c], learn: [...p.map(() => (all ? 1 : 0)), ...c.map(() => 1)] };
    }
    case "messages": {
      if (!o.template)
        throw new DataError(
          "a {messages} record needs a chat template, and the model has none",
          { file, line: rec.line, field: "messages" },
          "give one with --chat-template FILE",
        );
      try {
        const t = await tokenizeChat(tok, o.template, rec.messages);
        return { ids: t.ids, learn: all ? t.ids.map(() => 1) : t.assistantMask };
      } catch (e) {
        if (e instanceof ChatTemplateError) throw new DataError(e.message, { file, line: rec.line, field: "messages" });
        throw e;
      }
    }
  }
}

/** Tokenizes records into rows with labels, applying the over-length rule (see the header). */
export async function encodeSftRecords(
  records: readonly SftRecord[],
  file: string,
  o: SftEncodeOptions,
): Promise<{ rows: SftRow[]; inputs: SftRecord[]; report: SftEncodeReport }> {
  const report: SftEncodeReport = {
    file,
    records: records.length,
    truncated: 0,
    tokensDropped: 0,
    skippedNothingToLearn: 0,
  };
  const rows: SftRow[] = [];
  const inputs: SftRecord[] = [];
  for (const rec of records) {
    let { ids, learn } = await idsAndMask(rec, o, file);
    if (ids.length > o.maxLength) {
      if (o.overLength === "reject")
        throw new DataError(
          `the record has ${ids.length} tokens, more than the context of ${o.maxLength} (maxLength)`,
          { file, line: rec.line },
          "shorten it, raise maxLength, or let graft truncate it from the left (overLength: truncate)",
        );
      const cut = ids.length - o.maxLength;
      report.truncated++;
      report.tokensDropped += cut;
      ids = ids.slice(cut);
      learn = learn.slice(cut);
    }
    // the first token is never a target (nothing predicts it), in a packed row or alone
    const labels = ids.map((id, i) => (i > 0 && learn[i] ? id : IGNORE_INDEX));
    if (ids.length < 2 || labels.every((l) => l === IGNORE_INDEX)) {
      report.skippedNothingToLearn++;
      continue;
    }
    rows.push({ ids, typeIds: ids.map(() => 0), labels });
    inputs.push(rec);
  }
  return { rows, inputs, report };
}

/**
 * Packs rows into rows of at most `maxLength` tokens, visiting them in a seeded random order and starting a new
 * row when the next sample does not fit. Each packed row carries positions restarting at 0 per sample and segment
 * ids 1, 2, ... The targets of a packed row: the number of tokens it learns.
 */
export function packRows(rows: readonly SftRow[], maxLength: number, rng: Rng): SftRow[] {
  const order = rng.permutation(rows.length);
  const out: SftRow[] = [];
  let cur: Required<SftRow> | null = null;
  let seg = 0;
  for (const i of order) {
    const r = rows[i];
    if (!cur || cur.ids.length + r.ids.length > maxLength) {
      if (cur) out.push(cur);
      cur = { ids: [], typeIds: [], labels: [], positionIds: [], segmentIds: [] };
      seg = 0;
    }
    seg++;
    cur.ids.push(...r.ids);
    cur.typeIds.push(...r.typeIds);
    cur.labels.push(...r.labels);
    for (let p = 0; p < r.ids.length; p++) {
      cur.positionIds.push(p);
      cur.segmentIds.push(seg);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Number of tokens a row learns. */
export function learnedTokens(row: SftRow): number {
  return row.labels.reduce((n, l) => n + (l === IGNORE_INDEX ? 0 : 1), 0);
}

/** One warning per file that had records truncated or skipped. */
export function encodeWarnings(r: SftEncodeReport, maxLength: number): string[] {
  const w: string[] = [];
  if (r.truncated > 0)
    w.push(
      `${r.file}: ${r.truncated} of ${r.records} records were longer than ${maxLength} tokens and were truncated from the left (${r.tokensDropped} tokens dropped)`,
    );
  if (r.skippedNothingToLearn > 0)
    w.push(`${r.file}: ${r.skippedNothingToLearn} of ${r.records} records had no token to learn and were skipped`);
  return w;
}
