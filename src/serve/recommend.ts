/**
 * `POST /recommend` for recommender directories (graft recommend train's output: recommender.json and vectors).
 * A recommender has no tokenizer for the token-budget batching of the other routes, and a request is one user's
 * matrix-vector product over the item vectors, so it is answered on the server's own thread, without the batcher:
 * by user id (a training user), or, with a two-tower model, by a history of item ids and optional user features
 * (a user the model was not trained on). The body is validated against its JSON schema like every route's.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { GraftError } from "../util/errors.js";
import { RecommendPredictor, type RecommendRequest } from "../recommend/index.js";
import type { ModelInfo, ModelSource } from "./jobs.js";

/** Whether a model directory holds a saved recommender (rather than a model with config.json). */
export function isRecommenderDir(dir: string): boolean {
  return existsSync(join(dir, "recommender.json"));
}

export const recommendBody = {
  type: "object",
  properties: {
    user: { type: "string", minLength: 1, description: "a user of the training interactions" },
    history: {
      type: "array",
      items: { type: "string", minLength: 1 },
      maxItems: 10000,
      description: "item ids the user interacted with, for a user the model was not trained on (two-tower)",
    },
    features: {
      type: "object",
      additionalProperties: { type: ["string", "number", "null"] },
      description: "the user's features by column name, as in the training feature file (two-tower with user features)",
    },
    k: { type: "integer", minimum: 1, maximum: 1000, description: "recommendations (default 10)" },
    exclude_seen: {
      type: "boolean",
      description: "leave out the user's training items, or the given history (default true)",
    },
    model: { type: "string", minLength: 1, description: "name of a served recommender (default: the first one)" },
  },
} as const;

export const recommendResponse = {
  type: "object",
  properties: {
    model: { type: "string" },
    user: { type: "string" },
    items: {
      type: "array",
      items: {
        type: "object",
        properties: { item: { type: "string" }, score: { type: "number" }, text: { type: "string" } },
      },
    },
  },
} as const;

export interface RecommendRoutesContext {
  error(status: number, message: string): Error;
  doc(method: string, url: string, summary: string, response: object, body?: object): void;
}

/** Loads the recommender sources, by name; an error names the model and its directory. */
export function loadRecommenders(sources: readonly ModelSource[]): Map<string, RecommendPredictor> {
  const recommenders = new Map<string, RecommendPredictor>();
  for (const s of sources) {
    try {
      recommenders.set(s.name, RecommendPredictor.load(s.dir));
    } catch (e) {
      throw new GraftError(`model "${s.name}" (${s.dir}): ${(e as Error).message}`);
    }
  }
  return recommenders;
}

/**
 * A recommender as /health and /v1/models list it beside the other models: its kind is the recommender's model
 * (popularity, itemknn, bpr, als, two-tower), its task "recommendation"; it takes no text, so no token limit.
 */
export function recommenderInfo(name: string, p: RecommendPredictor): ModelInfo {
  return {
    name,
    kind: p.info.model,
    task: "recommendation",
    labels: [],
    maxLength: null,
    canEmbed: false,
    canGenerate: false,
  };
}

/** Registers POST /recommend for the loaded recommenders (when there is at least one; the first is the default). */
export function registerRecommendRoutes(
  app: FastifyInstance,
  recommenders: ReadonlyMap<string, RecommendPredictor>,
  ctx: RecommendRoutesContext,
): void {
  if (recommenders.size === 0) return;
  const first = recommenders.keys().next().value as string;
  ctx.doc(
    "POST",
    "/recommend",
    "a user's top k items: by user id, or by a history of item ids (and features) for a new user",
    recommendResponse,
    recommendBody,
  );
  type Body = {
    user?: string;
    history?: string[];
    features?: Record<string, string | number | null>;
    k?: number;
    exclude_seen?: boolean;
    model?: string;
  };
  app.post("/recommend", { schema: { body: recommendBody } }, async (req: FastifyRequest<{ Body: Body }>) => {
    const b = req.body;
    const name = b.model ?? first;
    const p = recommenders.get(name);
    if (!p)
      throw ctx.error(
        400,
        `body.model: no recommender "${name}" is served (recommenders: ${[...recommenders.keys()].join(", ")})`,
      );
    if (b.user === undefined && b.history === undefined && b.features === undefined)
      throw ctx.error(400, "body.user or body.history is required");
    const r: RecommendRequest = {
      ...(b.user !== undefined ? { user: b.user } : {}),
      ...(b.history !== undefined ? { history: b.history } : {}),
      ...(b.features !== undefined ? { features: b.features } : {}),
      k: b.k ?? 10,
      excludeSeen: b.exclude_seen ?? true,
    };
    let items;
    try {
      items = p.request(r);
    } catch (e) {
      if (e instanceof GraftError) {
        const m = e.message.replace(/^(history\[\d+\]|features\.)/, "body.$1");
        throw ctx.error(b.user !== undefined && /unknown user/.test(m) ? 404 : 400, m);
      }
      throw e;
    }
    return { model: name, ...(b.user !== undefined ? { user: b.user } : {}), items };
  });
}
