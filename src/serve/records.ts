/**
 * POST /predict/records: a tabular model's predictions for records (objects of column → value), beside the TEI
 * /predict route, whose inputs stay texts and pairs. Each record is checked against the model's saved schema on
 * the main thread first (its columns, numbers in numeric columns), so a bad record is answered 400 naming
 * `body.inputs[i]`, the column and the value; the checked records then batch and run in the workers like texts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DataError } from "../util/errors.js";
import { readConfig } from "../models/index.js";
import type { TabularSchema } from "../data/tabular/index.js";
import { recordFields, recordInput } from "../tasks/kinds/tabular/index.js";
import type { PredictorInput, TaskPrediction } from "../tasks/spec.js";
import type { ModelInfo } from "./jobs.js";

/** What the records route needs of the server. */
export interface RecordsContext {
  model(name: string | undefined): { info: ModelInfo; dir: string };
  admitted<T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Predictions of a model for inputs (batched with other requests, run in a worker). */
  predict(model: string, inputs: PredictorInput[], signal: AbortSignal): Promise<TaskPrediction[]>;
  sample(route: string, model: string, inputs: readonly unknown[], outputs: readonly unknown[]): void;
  error(status: number, message: string): Error;
  doc(method: string, url: string, summary: string, response: object, body?: object): void;
  /** Inputs per request (--max-inputs). */
  maxInputs: number;
}

const recordsBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: {
      type: ["object", "array"],
      minItems: 1,
      items: { type: "object" },
      description:
        'a record or an array of records, each an object of column → value (number, string, boolean or null), e.g. {"tenure": 3, "plan": "monthly"}',
    },
    model: { type: "string", minLength: 1, description: "name of a served model (default: the first one)" },
  },
} as const;

const labelScores = {
  type: "object",
  properties: {
    label: { type: "string", description: "the decision (the tuned threshold applies to a binary model)" },
    scores: {
      type: "array",
      items: { type: "object", properties: { label: { type: "string" }, score: { type: "number" } } },
      description: "each class's probability, highest first",
    },
  },
};
const recordsResponse = { oneOf: [labelScores, { type: "array", items: labelScores }] };

export function registerRecordRoutes(app: FastifyInstance, ctx: RecordsContext): void {
  const schemas = new Map<string, TabularSchema>();
  const schemaOf = (name: string, dir: string): TabularSchema => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = (readConfig(dir) as unknown as { tabular_schema: TabularSchema }).tabular_schema));
    return s;
  };
  ctx.doc(
    "POST",
    "/predict/records",
    "a tabular model's label and class probabilities for records (objects of column → value)",
    recordsResponse,
    recordsBody,
  );
  app.post(
    "/predict/records",
    { schema: { body: recordsBody } },
    async (req: FastifyRequest<{ Body: { inputs: object | object[]; model?: string } }>, reply) => {
      const m = ctx.model(req.body.model);
      if (m.info.task !== "tabular")
        throw ctx.error(
          400,
          `model "${m.info.name}" (${m.info.kind}) reads texts, not records: send them to /predict (records need a tabular model)`,
        );
      const single = !Array.isArray(req.body.inputs);
      const records = (single ? [req.body.inputs] : req.body.inputs) as Record<string, unknown>[];
      if (records.length > ctx.maxInputs)
        throw ctx.error(
          413,
          `body.inputs holds ${records.length} records; this server takes at most ${ctx.maxInputs} per request (--max-inputs)`,
        );
      const schema = schemaOf(m.info.name, m.dir);
      const inputs = records.map((r, i) => {
        const where = { file: single ? "body.inputs" : `body.inputs[${i}]` };
        try {
          recordFields(schema, r, where);
        } catch (e) {
          if (e instanceof DataError) throw ctx.error(400, e.message);
          throw e;
        }
        return recordInput(r, where);
      });
      return ctx.admitted(reply, async (signal) => {
        const preds = await ctx.predict(m.info.name, inputs, signal);
        const out = preds.map((p) => {
          const scores = (p as { scores?: Record<string, number> }).scores ?? {};
          return {
            label: (p as { label?: string }).label,
            scores: Object.entries(scores)
              .map(([label, score]) => ({ label, score }))
              .sort((a, b) => b.score - a.score),
          };
        });
        ctx.sample("/predict/records", m.info.name, records, preds);
        return single ? out[0] : out;
      });
    },
  );
}
