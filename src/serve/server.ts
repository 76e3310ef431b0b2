/**
 * `createServer(options)`: an HTTP inference server (Fastify) over saved model directories. Routes in Hugging Face
 * Text Embeddings Inference's shapes (/predict, /embed, /rerank) and OpenAI's (/v1/embeddings, /v1/models), plus
 * /health, /metrics (Prometheus) and /openapi.json. Inputs are batched across requests (batcher.ts) and run in
 * worker threads (engine.ts).
 *
 * Limits, each answered with its status and a message naming the field or flag: a body over `bodyLimit` bytes →
 * 413; more than `maxInputs` inputs in a request → 413; an input over the token limit → 413 unless the request
 * (or the server) truncates; more than `maxQueue` requests waiting or running → 429 with Retry-After; a request
 * not answered within `timeoutMs` → 504 and its waiting inputs leave the queue; a client that disconnects has its
 * waiting inputs taken out of the queue too. With `apiKey`, every route but /health needs
 * `Authorization: Bearer KEY` (401 otherwise). No route reads a file path from a request.
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { GraftError } from "../util/errors.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import type { PredictorInput, TaskPrediction } from "../tasks/spec.js";
import { Batcher } from "./batcher.js";
import { Engine } from "./engine.js";
import type { Job, ModelInfo, ModelSource } from "./jobs.js";
import { ServeMetrics } from "./metrics.js";
import { embedBody, openaiEmbeddingsBody, predictBody, rerankBody, responses } from "./schemas.js";
import { registerGenerationRoutes } from "./generation.js";
import { isRecommenderDir, loadRecommenders, recommenderInfo, registerRecommendRoutes } from "./recommend.js";
import { registerRecordRoutes } from "./records.js";
import { TokenCounter } from "./tokens.js";
import type { DriftReport } from "../monitor/index.js";

export interface ServeOptions {
  /** Models to serve, by the name clients use (the first is the default of requests that name none). */
  models: ModelSource[] | Record<string, string>;
  /** Inference threads (default 1; 0 runs models on the event loop's thread, for tests and tiny models). */
  workers?: number;
  /** Padded tokens per batch (default 16384). */
  maxBatchTokens?: number;
  /** Inputs per batch (default 32). */
  maxBatchSize?: number;
  /** How long an input waits for others to join its batch (default 0: batches form while workers are busy). */
  maxWaitMs?: number;
  /** Requests waiting or running at once; one more is answered 429 (default 1024). */
  maxQueue?: number;
  /** A request not answered within this is answered 504 (default 30000; 0: no limit). */
  timeoutMs?: number;
  /** Require `Authorization: Bearer <apiKey>` on every route but /health. */
  apiKey?: string;
  /** Inputs per request (default 256). */
  maxInputs?: number;
  /** Tokens per input, special tokens included (default and at most: the model's own limit). */
  maxInputTokens?: number;
  /** Truncate inputs over the token limit instead of answering 413, unless a request says otherwise (default false). */
  truncate?: boolean;
  /** Request bodies over this many bytes are answered 413 (default 1 MiB). */
  bodyLimit?: number;
  /** Fraction of answered requests passed to onServed (default 0: none; the hook is for drift monitoring). */
  sampleRate?: number;
  /** Called with a sample of requests after they are answered: the route, the inputs, the outputs and the model's name. */
  onServed?: (route: string, inputs: readonly unknown[], outputs: readonly unknown[], model: string) => void;
  /**
   * Drift monitoring (monitor/): `GET /drift` compares each model's recent samples in `status` with the reference
   * saved with it, and `/health` says "degraded" (still 200: the server works) while a report is degraded.
   * `status(model)` returns null for a model without a reference; reports are cached for `refreshMs` (default 60 s).
   */
  drift?: { status: (model: string) => DriftReport | null; refreshMs?: number };
  /**
   * Generation joins the model's running decode batch between two decode steps (continuous batching, default
   * true; GPT-2 and Llama), at most maxBatchSize sequences at a time; false: each generation decodes alone.
   */
  continuousBatching?: boolean;
  /** Fastify's logger (default off). */
  logger?: boolean;
}

/** An error with the HTTP status it is answered with. */
export class ServeError extends GraftError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface ServedModel {
  info: ModelInfo;
  dir: string;
  tokenizer: Tokenizer | null;
  counter: TokenCounter | null;
  /** Tokens an input may have (null: no limit). */
  limit: number | null;
}

const DEFAULTS = {
  workers: 1,
  maxBatchTokens: 16384,
  maxBatchSize: 32,
  maxWaitMs: 0,
  maxQueue: 1024,
  timeoutMs: 30_000,
  maxInputs: 256,
  truncate: false,
  bodyLimit: 1 << 20,
  sampleRate: 0,
  continuousBatching: true,
};

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new GraftError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** "/inputs/0/1" → "inputs[0][1]". */
function fieldPath(instancePath: string, prefix: string): string {
  const parts = instancePath.split("/").slice(1);
  let out = prefix;
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : `.${p}`;
  return out;
}

/** ajv's "must be string,array" as "must be a string or an array". */
function readableType(message: string): string {
  const m = /^must be ([a-z,]+)$/.exec(message);
  if (!m) return message;
  const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
  return `must be ${m[1].split(",").map(article).join(" or ")}`;
}

/** The texts and pairs of a TEI /predict body, and whether it was a single input. */
function predictInputs(inputs: string | (string | string[])[]): { items: PredictorInput[]; single: boolean } {
  const pair = (p: string[], at: string): PredictorInput => {
    if (p.length === 1) return p[0];
    if (p.length === 2) return { text: p[0], textPair: p[1] };
    throw new ServeError(400, `${at} must hold a text or a pair of texts, got ${p.length} strings`);
  };
  if (typeof inputs === "string") return { items: [inputs], single: true };
  // TEI: two strings are one pair; otherwise an array is a batch (of texts, and of pairs as arrays)
  if (inputs.length === 2 && inputs.every((x) => typeof x === "string"))
    return { items: [pair(inputs as string[], "body.inputs")], single: true };
  return {
    items: inputs.map((x, i) => (typeof x === "string" ? x : pair(x, `body.inputs[${i}]`))),
    single: false,
  };
}

const asList = (x: string | readonly string[]): string[] => (typeof x === "string" ? [x] : [...x]);

function normalized(v: readonly number[]): number[] {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/**
 * A label-and-scores prediction as TEI's list of { label, score }, highest first; a tagger's entities and a search
 * index's hits as they are.
 */
function teiPrediction(p: TaskPrediction): unknown {
  if (p.task === "ner" || p.task === "search") {
    const { task: _task, ...rest } = p;
    return rest;
  }
  const scores = (p as { scores?: Record<string, number> }).scores ?? {};
  return Object.entries(scores)
    .map(([label, score]) => ({ label, score }))
    .sort((a, b) => b.score - a.score);
}

/** Starts the models (in worker threads) and returns the Fastify instance, ready to `listen`. */
export async function createServer(options: ServeOptions): Promise<FastifyInstance> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...DEFAULTS, ...given } as typeof DEFAULTS & ServeOptions;
  const sources: ModelSource[] = Array.isArray(options.models)
    ? options.models.map((m) => ({ ...m }))
    : Object.entries(options.models).map(([name, dir]) => ({ name, dir }));
  if (sources.length === 0) throw new GraftError("serve: give at least one model");
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) throw new GraftError(`serve: two models are named "${s.name}"`);
    names.add(s.name);
  }
  positiveInt("maxBatchTokens", o.maxBatchTokens);
  positiveInt("maxBatchSize", o.maxBatchSize);
  positiveInt("maxWaitMs", o.maxWaitMs, 0);
  positiveInt("maxQueue", o.maxQueue);
  positiveInt("timeoutMs", o.timeoutMs, 0);
  positiveInt("maxInputs", o.maxInputs);
  positiveInt("bodyLimit", o.bodyLimit);
  if (o.maxInputTokens !== undefined) positiveInt("maxInputTokens", o.maxInputTokens);
  if (!(o.sampleRate >= 0 && o.sampleRate <= 1))
    throw new GraftError(`sampleRate must be in [0, 1], got ${o.sampleRate}`);
  if (options.onServed && o.sampleRate === 0)
    throw new GraftError("onServed is given but sampleRate is 0 (the default): set sampleRate in (0, 1]");

  // recommender directories are answered by POST /recommend (recommend.ts); the other models run in the engine
  const recommenderSources = sources.filter((s) => isRecommenderDir(s.dir));
  const served = sources.filter((s) => !recommenderSources.includes(s));
  // loaded before the engine's workers start, so that a bad recommender directory leaves nothing running
  const recommenders = loadRecommenders(recommenderSources);
  const engine = await Engine.start(
    served.map((s) => ({ ...s, maxLength: o.maxInputTokens ?? 0, maxDecodeBatch: o.maxBatchSize })),
    recommenderSources.length === sources.length ? 0 : positiveInt("workers", o.workers, 0),
  );
  const models = new Map<string, ServedModel>();
  for (const [i, info] of engine.models.entries()) {
    let tokenizer: Tokenizer | null = null;
    try {
      tokenizer = info.maxLength === null ? null : loadTokenizer(served[i].dir);
    } catch {
      tokenizer = null;
    }
    const limit = info.maxLength === null ? null : Math.min(info.maxLength, o.maxInputTokens ?? Infinity);
    models.set(info.name, {
      info,
      dir: served[i].dir,
      tokenizer,
      counter: tokenizer ? new TokenCounter(tokenizer) : null,
      limit,
    });
  }
  const defaultModel = (served[0] ?? sources[0]).name;

  const metrics = new ServeMetrics();
  const batcher = new Batcher(o, engine.slots, {
    batch: (size, _tokens, key) => {
      const [model, op] = key.split("\0");
      metrics.batchSize.observe({ model, op }, size);
    },
    queueDepth: (n) => metrics.queueDepth.set(n),
  });

  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit,
    // a number where a text belongs is an error, not a text (Fastify coerces types by default)
    ajv: { customOptions: { coerceTypes: false, allowUnionTypes: true } },
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      if (missing) return new Error(`${fieldPath(`${e.instancePath}/${missing}`, dataVar)} is required`);
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
      if (allowed)
        return new Error(
          `${fieldPath(e.instancePath, dataVar)} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`,
        );
      return new Error(`${fieldPath(e.instancePath, dataVar)} ${readableType(e.message ?? "is invalid")}`);
    },
  });

  // ---- requests in flight, shutdown, auth, metrics

  let inflight = 0;
  let draining = false;
  let drained: (() => void) | null = null;
  const settle = () => {
    inflight--;
    metrics.inflight.set(inflight);
    if (inflight === 0 && drained) drained();
  };

  const key = o.apiKey ? Buffer.from(o.apiKey) : null;
  app.addHook("onRequest", async (req, reply) => {
    if (!key || req.url === "/health") return;
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    if (given.length !== key.length || !timingSafeEqual(given, key)) {
      reply.header("www-authenticate", "Bearer");
      throw new ServeError(401, "this server needs an API key: send Authorization: Bearer <key>");
    }
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    const labels = { route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });
  app.addHook("preClose", async () => {
    draining = true;
  });
  // while draining, each answer closes its connection, so a keep-alive client does not hold the shutdown open
  app.addHook("onSend", async (_req, reply) => {
    if (draining) reply.header("connection", "close");
  });
  app.addHook("onClose", async () => {
    if (inflight > 0) await new Promise<void>((r) => (drained = r));
    await engine.close();
  });

  app.setErrorHandler((err: FastifyError | ServeError, req, reply) => {
    let status = err instanceof ServeError ? err.status : (err.statusCode ?? 500);
    let message = err.message;
    if ((err as FastifyError).code === "FST_ERR_CTP_BODY_TOO_LARGE")
      message = `the request body is over the server's limit of ${o.bodyLimit} bytes (--max-body-bytes)`;
    if (err instanceof ServeError) for (const [h, v] of Object.entries(err.headers)) reply.header(h, v);
    if (status < 400) status = 500;
    const type =
      status === 400 || status === 413 || status === 422
        ? "Validation"
        : status === 401
          ? "Unauthorized"
          : status === 429
            ? "Overloaded"
            : status === 504
              ? "Timeout"
              : status >= 500
                ? "Backend"
                : "Request";
    reply.status(status);
    if (req.url.startsWith("/v1/"))
      return reply.send({ error: { message, type: type.toLowerCase(), param: null, code: null } });
    return reply.send({ error: message, error_type: type });
  });

  // ---- helpers of the model routes

  const model = (name: string | undefined, field = "body.model"): ServedModel => {
    const m = models.get(name ?? defaultModel);
    if (!m)
      throw new ServeError(400, `${field}: no model "${name}" is served (serving: ${[...models.keys()].join(", ")})`);
    return m;
  };

  /** Each input's length in tokens (special tokens included), checked against the limit: 413 or truncated. */
  const countTokens = async (m: ServedModel, inputs: readonly PredictorInput[], truncate: boolean, field: string) => {
    if (inputs.length > o.maxInputs)
      throw new ServeError(
        413,
        `${field} holds ${inputs.length} inputs; this server takes at most ${o.maxInputs} per request (--max-inputs)`,
      );
    const texts = inputs.map((x) => (typeof x === "string" ? x : x.text));
    const pairs = inputs.map((x) => (typeof x === "string" ? undefined : x.textPair));
    let counts: number[];
    if (!m.counter) counts = inputs.map((_, i) => `${texts[i]} ${pairs[i] ?? ""}`.split(/\s+/).filter(Boolean).length);
    else {
      counts = new Array<number>(inputs.length);
      const single = inputs.flatMap((_, i) => (pairs[i] === undefined ? [i] : []));
      const paired = inputs.flatMap((_, i) => (pairs[i] === undefined ? [] : [i]));
      const [a, b] = await Promise.all([
        single.length ? m.counter.count(single.map((i) => texts[i])) : [],
        paired.length
          ? m.counter.count(
              paired.map((i) => texts[i]),
              paired.map((i) => pairs[i]!),
            )
          : [],
      ]);
      single.forEach((i, k) => (counts[i] = a[k]));
      paired.forEach((i, k) => (counts[i] = b[k]));
    }
    if (m.limit === null) return counts;
    return counts.map((n, i) => {
      if (n <= m.limit!) return n;
      if (truncate) return m.limit!;
      throw new ServeError(
        413,
        `${inputs.length === 1 && field === "body.inputs" ? field : `${field}[${i}]`} has ${n} tokens; model "${m.info.name}" takes at most ${m.limit} (send "truncate": true to cut it)`,
      );
    });
  };

  /**
   * Runs a model request: admission (429 past maxQueue, 503 while shutting down), a signal aborted by the timeout
   * (504) or by the client going away, and the in-flight count that shutdown waits on.
   */
  const admitted = async <T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    if (draining) throw new ServeError(503, "the server is shutting down");
    if (inflight >= o.maxQueue)
      throw new ServeError(
        429,
        `the server is busy: ${inflight} requests are waiting or running (--max-queue ${o.maxQueue})`,
        {
          "retry-after": "1",
        },
      );
    inflight++;
    metrics.inflight.set(inflight);
    const ac = new AbortController();
    const timer =
      o.timeoutMs > 0
        ? setTimeout(
            () => ac.abort(new ServeError(504, `the request took longer than ${o.timeoutMs} ms (--timeout-ms)`)),
            o.timeoutMs,
          )
        : null;
    const onClose = () => {
      if (!reply.raw.writableFinished) ac.abort(new ServeError(499, "the client closed the connection"));
    };
    reply.raw.on("close", onClose);
    const aborted = new Promise<never>((_, reject) =>
      ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true }),
    );
    aborted.catch(() => {});
    try {
      return await Promise.race([work(ac.signal), aborted]);
    } finally {
      if (timer) clearTimeout(timer);
      reply.raw.off("close", onClose);
      settle();
    }
  };

  const sample = (route: string, name: string, inputs: readonly unknown[], outputs: readonly unknown[]) => {
    if (options.onServed && Math.random() < o.sampleRate) options.onServed(route, inputs, outputs, name);
  };

  // drift reports, computed at most once per refresh interval (they read the log and run tests)
  const driftCache = new Map<string, { at: number; report: DriftReport | null }>();
  const driftOf = (name: string): DriftReport | null => {
    if (!options.drift) return null;
    const cached = driftCache.get(name);
    const now = Date.now();
    if (cached && now - cached.at < (options.drift.refreshMs ?? 60_000)) return cached.report;
    const report = options.drift.status(name);
    driftCache.set(name, { at: now, report });
    return report;
  };

  const predict = async (m: ServedModel, inputs: PredictorInput[], tokens: number[], signal: AbortSignal) => {
    const out = (await batcher.submit(
      inputs.map((x, i) => ({ job: { op: "predict", model: m.info.name, inputs: [x] } as Job, tokens: tokens[i] })),
      signal,
    )) as TaskPrediction[];
    metrics.addTokens(
      m.info.name,
      "predict",
      tokens.reduce((s, n) => s + n, 0),
    );
    return out;
  };

  const embed = async (
    m: ServedModel,
    texts: string[],
    tokens: number[],
    pooling: "cls" | "mean",
    normalize: boolean,
    signal: AbortSignal,
  ) => {
    const out = (await batcher.submit(
      texts.map((t, i) => ({
        job: { op: "embed", model: m.info.name, texts: [t], pooling } as Job,
        tokens: tokens[i],
      })),
      signal,
    )) as number[][];
    metrics.addTokens(
      m.info.name,
      "embed",
      tokens.reduce((s, n) => s + n, 0),
    );
    return normalize ? out.map(normalized) : out;
  };

  const needsTask = (m: ServedModel, route: string) => {
    if (m.info.task === null)
      throw new ServeError(
        400,
        `model "${m.info.name}" (${m.info.kind}) has no task head to ${route === "/rerank" ? "score pairs" : "predict labels"}`,
      );
  };
  const needsEmbed = (m: ServedModel) => {
    if (!m.info.canEmbed) throw new ServeError(400, `model "${m.info.name}" (${m.info.kind}) does not embed texts`);
  };

  // ---- routes: every one is listed in /openapi.json with its schemas

  const documented: { method: string; url: string; summary: string; body?: object; response: object }[] = [];
  const doc = (method: string, url: string, summary: string, response: object, body?: object) =>
    documented.push({ method: method.toLowerCase(), url, summary, response, ...(body ? { body } : {}) });

  type Body<T> = FastifyRequest<{ Body: T }>;

  doc("POST", "/predict", "labels with scores for texts and text pairs (TEI)", responses.predict, predictBody);
  app.post(
    "/predict",
    { schema: { body: predictBody } },
    async (req: Body<{ inputs: string | (string | string[])[]; truncate?: boolean; model?: string }>, reply) => {
      const m = model(req.body.model);
      needsTask(m, "/predict");
      const { items, single } = predictInputs(req.body.inputs);
      return admitted(reply, async (signal) => {
        const tokens = await countTokens(m, items, req.body.truncate ?? o.truncate, "body.inputs");
        const preds = await predict(m, items, tokens, signal);
        const out = preds.map(teiPrediction);
        sample("/predict", m.info.name, items, preds);
        return single ? out[0] : out;
      });
    },
  );

  doc("POST", "/embed", "one vector per text (TEI)", responses.embed, embedBody);
  app.post(
    "/embed",
    { schema: { body: embedBody } },
    async (
      req: Body<{
        inputs: string | string[];
        normalize?: boolean;
        pooling?: "cls" | "mean";
        truncate?: boolean;
        model?: string;
      }>,
      reply,
    ) => {
      const m = model(req.body.model);
      needsEmbed(m);
      const texts = asList(req.body.inputs);
      return admitted(reply, async (signal) => {
        const tokens = await countTokens(m, texts, req.body.truncate ?? o.truncate, "body.inputs");
        const out = await embed(m, texts, tokens, req.body.pooling ?? "mean", req.body.normalize ?? true, signal);
        sample("/embed", m.info.name, texts, out);
        return out;
      });
    },
  );

  doc(
    "POST",
    "/rerank",
    "texts ranked by relevance to a query: a cross-encoder's score, else embedding cosine (TEI)",
    responses.rerank,
    rerankBody,
  );
  app.post(
    "/rerank",
    { schema: { body: rerankBody } },
    async (
      req: Body<{ query: string; texts: string[]; return_text?: boolean; truncate?: boolean; model?: string }>,
      reply,
    ) => {
      const m = model(req.body.model);
      const { query, texts } = req.body;
      const truncate = req.body.truncate ?? o.truncate;
      const cross = m.info.task === "classification" || m.info.task === "regression";
      if (!cross && !m.info.canEmbed)
        throw new ServeError(
          400,
          `model "${m.info.name}" (${m.info.kind}) neither scores pairs nor embeds texts, so it cannot rerank`,
        );
      return admitted(reply, async (signal) => {
        let scores: number[];
        if (cross) {
          // a cross-encoder: the score of the last label (the positive class of a binary classifier), or the value
          const pairs = texts.map((t): PredictorInput => ({ text: query, textPair: t }));
          const tokens = await countTokens(m, pairs, truncate, "body.texts");
          const preds = await predict(m, pairs, tokens, signal);
          const last = m.info.labels[m.info.labels.length - 1];
          scores = preds.map((p) =>
            p.task === "regression"
              ? (p as { value: number }).value
              : ((p as { scores: Record<string, number> }).scores[last] ?? 0),
          );
        } else {
          const all = [query, ...texts];
          const tokens = await countTokens(m, all, truncate, "body.texts");
          const [q, ...vs] = await embed(m, all, tokens, "mean", true, signal);
          scores = vs.map((v) => v.reduce((s, x, i) => s + x * q[i], 0));
        }
        const out = scores
          .map((score, index) => ({ index, score, ...(req.body.return_text ? { text: texts[index] } : {}) }))
          .sort((a, b) => b.score - a.score);
        sample(
          "/rerank",
          m.info.name,
          texts.map((t) => ({ query, text: t })),
          scores,
        );
        return out;
      });
    },
  );

  doc("POST", "/v1/embeddings", "OpenAI-compatible embeddings", responses.openaiEmbeddings, openaiEmbeddingsBody);
  app.post(
    "/v1/embeddings",
    { schema: { body: openaiEmbeddingsBody } },
    async (req: Body<{ input: string | string[]; model?: string; encoding_format?: "float" | "base64" }>, reply) => {
      const m = model(req.body.model);
      needsEmbed(m);
      const texts = asList(req.body.input);
      return admitted(reply, async (signal) => {
        const tokens = await countTokens(m, texts, o.truncate, "body.input");
        const vectors = await embed(m, texts, tokens, "mean", true, signal);
        const total = tokens.reduce((s, n) => s + n, 0);
        sample("/v1/embeddings", m.info.name, texts, vectors);
        return {
          object: "list",
          data: vectors.map((v, index) => ({
            object: "embedding",
            index,
            embedding:
              req.body.encoding_format === "base64" ? Buffer.from(Float32Array.from(v).buffer).toString("base64") : v,
          })),
          model: m.info.name,
          usage: { prompt_tokens: total, total_tokens: total },
        };
      });
    },
  );

  const created = Math.floor(Date.now() / 1000);
  // every served model in the order given, recommenders included (they answer /recommend, not the engine's routes)
  const listed = sources.map((s) => {
    const m = models.get(s.name);
    return m
      ? { info: m.info, limit: m.limit }
      : { info: recommenderInfo(s.name, recommenders.get(s.name)!), limit: null };
  });
  doc("GET", "/v1/models", "the served models (OpenAI-compatible)", responses.models);
  app.get("/v1/models", async () => ({
    object: "list",
    data: listed.map(({ info }) => ({ id: info.name, object: "model", created, owned_by: "graft" })),
  }));

  doc("GET", "/health", "ok with the served models, or 503 while shutting down", responses.health);
  app.get("/health", async (_req, reply) => {
    if (draining) reply.status(503);
    const degraded = [...models.keys()].filter((name) => driftOf(name)?.status === "degraded");
    return {
      status: draining ? "draining" : degraded.length ? "degraded" : "ok",
      ...(degraded.length ? { drift_degraded: degraded } : {}),
      models: listed.map(({ info, limit }) => ({
        name: info.name,
        kind: info.kind,
        task: info.task,
        labels: info.labels,
        max_input_tokens: limit,
        embed: info.canEmbed,
        generate: info.canGenerate,
      })),
    };
  });

  if (options.drift) {
    doc("GET", "/drift", "drift of each model's served samples against its training reference", responses.drift);
    app.get("/drift", async () => ({
      models: Object.fromEntries([...models.keys()].map((name) => [name, driftOf(name)])),
    }));
  }

  doc("GET", "/metrics", "Prometheus metrics", responses.metrics);
  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  registerGenerationRoutes(app, {
    model: (name) => model(name),
    admitted,
    generate: (name, prompt, settings, onChunk, signal) =>
      engine.generate(
        { op: "generate", model: name, prompt, settings, continuous: o.continuousBatching },
        onChunk,
        signal,
      ),
    metrics,
    sample,
    error: (status, message) => new ServeError(status, message),
    doc,
  });

  registerRecommendRoutes(app, recommenders, { error: (status, message) => new ServeError(status, message), doc });
  registerRecordRoutes(app, {
    model: (name) => model(name),
    admitted,
    predict: (name, inputs, signal) =>
      predict(
        model(name),
        inputs,
        inputs.map(() => 1),
        signal,
      ),
    sample,
    error: (status, message) => new ServeError(status, message),
    doc,
    maxInputs: o.maxInputs,
  });

  app.get("/openapi.json", async () => openapi(documented));
  return app;
}

/** The OpenAPI 3.1 document of the routes (3.1 takes JSON Schema as it is). */
function openapi(routes: readonly { method: string; url: string; summary: string; body?: object; response: object }[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const content = (schema: object, type = "application/json") => ({ content: { [type]: { schema } } });
    paths[r.url] ??= {};
    paths[r.url][r.method] = {
      summary: r.summary,
      ...(r.body ? { requestBody: { required: true, ...content(r.body) } } : {}),
      responses: {
        200: { description: "OK", ...content(r.response, r.url === "/metrics" ? "text/plain" : "application/json") },
        ...(r.body
          ? {
              400: {
                description: "a field of the body is invalid (the message names it)",
                ...content(responses.error),
              },
              413: {
                description: "the body, the number of inputs or an input's tokens is over its limit",
                ...content(responses.error),
              },
              429: { description: "the queue is full; retry after Retry-After seconds", ...content(responses.error) },
              504: { description: "not answered within the server's timeout", ...content(responses.error) },
            }
          : {}),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "graft serve", version: "1" },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "only when the server has an API key" },
      },
    },
    paths,
  };
}
