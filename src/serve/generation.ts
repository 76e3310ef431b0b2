/**
 * The generative routes, for causal language models: `POST /generate` (Text Generation Inference's shape; with
 * `"stream": true` server-sent events, one per token), and OpenAI's `POST /v1/completions` and
 * `POST /v1/chat/completions` (streamed as `chat.completion.chunk` events ending with `data: [DONE]`).
 * Each generation runs on a worker, one token per step; between steps a disconnected client or the timeout stops it.
 * With continuous batching (the default; GPT-2 and Llama) the generations on a worker share one running decode
 * batch: a new request's prompt runs, then it joins the batch between two decode steps, and a request that ends,
 * is cancelled or whose client disconnects leaves it between two steps (models/generation/continuous.ts).
 *
 * A chat is turned into a prompt by the model's chat template (chat/: chat_template.jinja or tokenizer_config.json's
 * `chat_template`, rendered as transformers' apply_chat_template renders it), or, without one, as "role: content"
 * lines followed by "assistant:".
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Tokenizer } from "../tokenizers/index.js";
import { type ChatTemplate, findChatTemplate, renderChat } from "../chat/index.js";
import type { GenerationDone, GenerationSettings, ModelInfo } from "./jobs.js";
import type { ServeMetrics } from "./metrics.js";

/** What the generative routes need of the server. */
export interface GenerationContext {
  model(name: string | undefined): { info: ModelInfo; tokenizer: Tokenizer | null; dir: string };
  admitted<T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  generate(
    model: string,
    prompt: string,
    settings: GenerationSettings,
    onChunk: (text: string, tokenId: number) => void,
    signal: AbortSignal,
  ): Promise<GenerationDone>;
  metrics: ServeMetrics;
  sample(route: string, model: string, inputs: readonly unknown[], outputs: readonly unknown[]): void;
  /** Error of a given status (as the server's error handler answers it). */
  error(status: number, message: string): Error;
  doc(method: string, url: string, summary: string, response: object, body?: object): void;
}

const stop = {
  type: ["string", "array"],
  items: { type: "string", minLength: 1 },
  maxItems: 8,
  minLength: 1,
  description: "text(s) that end the generation (left out of it)",
};
const seed = { type: "integer", minimum: 0, description: "seed of the sampling generator" };
const model = { type: "string", minLength: 1, description: "name of a served model (default: the first one)" };

export const generateBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: { type: "string", minLength: 1 },
    parameters: {
      type: "object",
      properties: {
        max_new_tokens: { type: "integer", minimum: 1, description: "default 20" },
        do_sample: { type: "boolean", description: "sample (default false: greedy)" },
        temperature: { type: "number", exclusiveMinimum: 0 },
        top_k: { type: "integer", minimum: 0 },
        top_p: { type: "number", exclusiveMinimum: 0, maximum: 1 },
        repetition_penalty: { type: "number", exclusiveMinimum: 0 },
        seed,
        stop: { type: "array", items: { type: "string", minLength: 1 }, maxItems: 8 },
      },
    },
    stream: { type: "boolean" },
    model,
  },
} as const;

const openaiSampling = {
  max_tokens: { type: "integer", minimum: 1, description: "default 16 (completions) or 256 (chat)" },
  temperature: { type: "number", minimum: 0, maximum: 2, description: "0: greedy; default 1" },
  top_p: { type: "number", exclusiveMinimum: 0, maximum: 1 },
  n: { const: 1, description: "one choice per request" },
  stream: { type: "boolean" },
  stop,
  seed,
  model,
};

export const completionsBody = {
  type: "object",
  required: ["prompt"],
  properties: {
    prompt: {
      type: ["string", "array"],
      minLength: 1,
      items: { type: "string", minLength: 1 },
      minItems: 1,
      maxItems: 1,
    },
    ...openaiSampling,
  },
} as const;

export const chatBody = {
  type: "object",
  required: ["messages"],
  properties: {
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role", "content"],
        properties: { role: { enum: ["system", "user", "assistant"] }, content: { type: "string" } },
      },
    },
    max_completion_tokens: { type: "integer", minimum: 1 },
    ...openaiSampling,
  },
} as const;

const usage = {
  type: "object",
  properties: {
    prompt_tokens: { type: "integer" },
    completion_tokens: { type: "integer" },
    total_tokens: { type: "integer" },
  },
};

type Message = { role: string; content: string };

/** How a request's OpenAI finish_reason reads a generation's end. */
const finishReason = (d: GenerationDone) => (d.reason === "length" ? "length" : "stop");

export function registerGenerationRoutes(app: FastifyInstance, ctx: GenerationContext): void {
  const templates = new Map<string, ChatTemplate | null>();
  const chatPrompt = (m: ReturnType<GenerationContext["model"]>, messages: readonly Message[]): string => {
    if (!templates.has(m.info.name)) templates.set(m.info.name, findChatTemplate(m.dir));
    const t = templates.get(m.info.name);
    if (!t) return `${messages.map((x) => `${x.role}: ${x.content}`).join("\n")}\nassistant:`;
    try {
      return renderChat(t, messages, { addGenerationPrompt: true });
    } catch (e) {
      throw ctx.error(400, (e as Error).message); // the template refused the conversation
    }
  };

  /** The model, checked to generate; the prompt's length in tokens; the new tokens it has room for. */
  const prepare = async (name: string | undefined, prompt: string, maxNew: number | undefined, fallback: number) => {
    const m = ctx.model(name);
    if (!m.info.canGenerate) throw ctx.error(400, `model "${m.info.name}" (${m.info.kind}) does not generate text`);
    const promptTokens = m.tokenizer
      ? (await m.tokenizer.encode(prompt, null, { addSpecialTokens: false })).ids.length
      : 0;
    const room = m.info.maxLength === null ? Infinity : m.info.maxLength - promptTokens;
    if (room < 1)
      throw ctx.error(
        413,
        `the prompt has ${promptTokens} tokens; model "${m.info.name}" holds ${m.info.maxLength} in all, prompt and new tokens`,
      );
    // a request may ask for more than there is room for: it gets what fits, and finish_reason "length"
    return { m, promptTokens, maxNewTokens: Math.min(maxNew ?? fallback, room) };
  };

  /** Streams server-sent events: `send` writes one; the work's errors after the start become an error event. */
  const sse = async (
    reply: FastifyReply,
    route: string,
    work: (send: (data: unknown) => void, signal: AbortSignal) => Promise<void>,
  ) => {
    const started = performance.now();
    let status = 200;
    try {
      await ctx.admitted(reply, async (signal) => {
        reply.hijack();
        reply.raw.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          connection: "keep-alive",
        });
        await work(
          (data) => reply.raw.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`),
          signal,
        );
      });
    } catch (e) {
      if (!reply.sent && !reply.raw.headersSent) throw e;
      status = (e as { status?: number }).status ?? 500;
      if (!reply.raw.destroyed) reply.raw.write(`data: ${JSON.stringify({ error: (e as Error).message })}\n\n`);
    }
    reply.raw.end();
    // a hijacked reply skips Fastify's onResponse hook: count it here
    const labels = { route, status: String(status) };
    ctx.metrics.requests.inc(labels);
    ctx.metrics.latency.observe(labels, (performance.now() - started) / 1000);
  };

  const run = (
    m: { info: ModelInfo },
    prompt: string,
    settings: GenerationSettings,
    signal: AbortSignal,
    onChunk: (text: string, tokenId: number) => void = () => {},
  ) =>
    ctx.generate(m.info.name, prompt, settings, onChunk, signal).then((d) => {
      ctx.metrics.addTokens(m.info.name, "generate", d.tokens);
      ctx.metrics.generations.inc({ model: m.info.name, reason: d.reason });
      if (d.batch) {
        if (d.batch.joinedRunning) ctx.metrics.joined.inc({ model: m.info.name });
        ctx.metrics.decodeBatch.observe({ model: m.info.name }, d.batch.largest);
      }
      return d;
    });

  // ---- TGI's /generate

  type GenerateReq = FastifyRequest<{
    Body: {
      inputs: string;
      parameters?: {
        max_new_tokens?: number;
        do_sample?: boolean;
        temperature?: number;
        top_k?: number;
        top_p?: number;
        repetition_penalty?: number;
        seed?: number;
        stop?: string[];
      };
      stream?: boolean;
      model?: string;
    };
  }>;
  ctx.doc(
    "POST",
    "/generate",
    "a continuation of the text (Text Generation Inference); with stream: true, server-sent events",
    {
      type: "object",
      properties: {
        generated_text: { type: "string" },
        details: {
          type: "object",
          properties: { finish_reason: { type: "string" }, generated_tokens: { type: "integer" } },
        },
      },
    },
    generateBody,
  );
  app.post("/generate", { schema: { body: generateBody } }, async (req: GenerateReq, reply) => {
    const p = req.body.parameters ?? {};
    const { m, maxNewTokens } = await prepare(req.body.model, req.body.inputs, p.max_new_tokens, 20);
    const settings: GenerationSettings = {
      maxNewTokens,
      doSample: p.do_sample ?? false,
      temperature: p.temperature,
      topK: p.top_k,
      topP: p.top_p,
      repetitionPenalty: p.repetition_penalty,
      seed: p.seed,
      stop: p.stop,
    };
    const details = (d: GenerationDone) => ({
      finish_reason: d.reason === "eos" ? "eos_token" : d.reason === "stop" ? "stop_sequence" : d.reason,
      generated_tokens: d.tokens,
    });
    if (!req.body.stream)
      return ctx.admitted(reply, async (signal) => {
        const d = await run(m, req.body.inputs, settings, signal);
        ctx.sample("/generate", m.info.name, [req.body.inputs], [d.text]);
        return { generated_text: d.text, details: details(d) };
      });
    await sse(reply, "/generate", async (send, signal) => {
      let index = 0;
      const d = await run(m, req.body.inputs, settings, signal, (text, id) =>
        send({ index: ++index, token: { id, text, special: false }, generated_text: null, details: null }),
      );
      send({ index: ++index, token: null, generated_text: d.text, details: details(d) });
      ctx.sample("/generate", m.info.name, [req.body.inputs], [d.text]);
    });
  });

  // ---- OpenAI's completions and chat completions

  type OpenAIReq = {
    max_tokens?: number;
    max_completion_tokens?: number;
    temperature?: number;
    top_p?: number;
    stream?: boolean;
    stop?: string | string[];
    seed?: number;
    model?: string;
  };
  const openaiSettings = (b: OpenAIReq, maxNewTokens: number): GenerationSettings => {
    const temperature = b.temperature ?? 1;
    return {
      maxNewTokens,
      doSample: temperature > 0,
      ...(temperature > 0 ? { temperature, topK: 0, topP: b.top_p ?? 1 } : {}),
      seed: b.seed,
      stop: b.stop === undefined ? undefined : typeof b.stop === "string" ? [b.stop] : b.stop,
    };
  };

  ctx.doc(
    "POST",
    "/v1/completions",
    "OpenAI-compatible text completion (stream: true for server-sent events)",
    {
      type: "object",
      properties: {
        id: { type: "string" },
        object: { const: "text_completion" },
        created: { type: "integer" },
        model: { type: "string" },
        choices: {
          type: "array",
          items: {
            type: "object",
            properties: { index: { type: "integer" }, text: { type: "string" }, finish_reason: { type: "string" } },
          },
        },
        usage,
      },
    },
    completionsBody,
  );
  app.post(
    "/v1/completions",
    { schema: { body: completionsBody } },
    async (req: FastifyRequest<{ Body: OpenAIReq & { prompt: string | string[] } }>, reply) => {
      const prompt = typeof req.body.prompt === "string" ? req.body.prompt : req.body.prompt[0];
      const { m, promptTokens, maxNewTokens } = await prepare(req.body.model, prompt, req.body.max_tokens, 16);
      const settings = openaiSettings(req.body, maxNewTokens);
      const head = () => ({
        id: `cmpl-${randomUUID()}`,
        object: "text_completion",
        created: Math.floor(Date.now() / 1000),
        model: m.info.name,
      });
      if (!req.body.stream)
        return ctx.admitted(reply, async (signal) => {
          const d = await run(m, prompt, settings, signal);
          ctx.sample("/v1/completions", m.info.name, [prompt], [d.text]);
          return {
            ...head(),
            choices: [{ index: 0, text: d.text, finish_reason: finishReason(d), logprobs: null }],
            usage: { prompt_tokens: promptTokens, completion_tokens: d.tokens, total_tokens: promptTokens + d.tokens },
          };
        });
      await sse(reply, "/v1/completions", async (send, signal) => {
        const h = head();
        const d = await run(m, prompt, settings, signal, (text) =>
          send({ ...h, choices: [{ index: 0, text, finish_reason: null, logprobs: null }] }),
        );
        send({ ...h, choices: [{ index: 0, text: "", finish_reason: finishReason(d), logprobs: null }] });
        send("[DONE]");
        ctx.sample("/v1/completions", m.info.name, [prompt], [d.text]);
      });
    },
  );

  ctx.doc(
    "POST",
    "/v1/chat/completions",
    "OpenAI-compatible chat completion (stream: true for chat.completion.chunk events)",
    {
      type: "object",
      properties: {
        id: { type: "string" },
        object: { const: "chat.completion" },
        created: { type: "integer" },
        model: { type: "string" },
        choices: {
          type: "array",
          items: {
            type: "object",
            properties: {
              index: { type: "integer" },
              message: {
                type: "object",
                properties: { role: { const: "assistant" }, content: { type: "string" } },
              },
              finish_reason: { type: "string" },
            },
          },
        },
        usage,
      },
    },
    chatBody,
  );
  app.post(
    "/v1/chat/completions",
    { schema: { body: chatBody } },
    async (req: FastifyRequest<{ Body: OpenAIReq & { messages: Message[] } }>, reply) => {
      const m0 = ctx.model(req.body.model);
      if (!m0.info.canGenerate)
        throw ctx.error(400, `model "${m0.info.name}" (${m0.info.kind}) does not generate text`);
      const prompt = chatPrompt(m0, req.body.messages);
      const asked = req.body.max_completion_tokens ?? req.body.max_tokens;
      const { m, promptTokens, maxNewTokens } = await prepare(req.body.model, prompt, asked, 256);
      const settings = openaiSettings(req.body, maxNewTokens);
      const head = (object: string) => ({
        id: `chatcmpl-${randomUUID()}`,
        object,
        created: Math.floor(Date.now() / 1000),
        model: m.info.name,
      });
      if (!req.body.stream)
        return ctx.admitted(reply, async (signal) => {
          const d = await run(m, prompt, settings, signal);
          ctx.sample("/v1/chat/completions", m.info.name, [req.body.messages], [d.text]);
          return {
            ...head("chat.completion"),
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: d.text },
                finish_reason: finishReason(d),
                logprobs: null,
              },
            ],
            usage: { prompt_tokens: promptTokens, completion_tokens: d.tokens, total_tokens: promptTokens + d.tokens },
          };
        });
      await sse(reply, "/v1/chat/completions", async (send, signal) => {
        const h = head("chat.completion.chunk");
        send({ ...h, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
        const d = await run(m, prompt, settings, signal, (content) =>
          send({ ...h, choices: [{ index: 0, delta: { content }, finish_reason: null }] }),
        );
        send({ ...h, choices: [{ index: 0, delta: {}, finish_reason: finishReason(d) }] });
        send("[DONE]");
        ctx.sample("/v1/chat/completions", m.info.name, [req.body.messages], [d.text]);
      });
    },
  );
}
