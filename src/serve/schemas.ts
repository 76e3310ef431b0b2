/**
 * The JSON schemas of the routes' bodies (Fastify validates every body against its route's schema before the
 * handler runs) and of their answers (for /openapi.json). Unknown fields are dropped, as clients of TEI and
 * OpenAI send fields a server may not use (`user`, `raw_scores`, ...).
 */

const model = { type: "string", minLength: 1, description: "name of a served model (default: the first one)" };
const truncate = {
  type: "boolean",
  description:
    "cut inputs longer than the token limit to it instead of answering 413 (default: the server's --truncate)",
};
const text = { type: "string" };
const texts = { type: "array", items: text, minItems: 1 };

export const predictBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: {
      type: ["string", "array"],
      minItems: 1,
      items: { type: ["string", "array"], items: text, minItems: 1, maxItems: 2 },
      description:
        'a text; a pair ["text", "second text"]; or a batch: an array of texts and pairs ([["a"], ["b", "c"]]), as TEI reads it',
    },
    truncate,
    model,
  },
} as const;

export const embedBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: { type: ["string", "array"], minItems: 1, items: text, description: "a text or an array of texts" },
    normalize: { type: "boolean", description: "unit-length vectors (default true)" },
    pooling: { enum: ["cls", "mean"], description: "first token, or mean over tokens (default mean)" },
    truncate,
    model,
  },
} as const;

export const rerankBody = {
  type: "object",
  required: ["query", "texts"],
  properties: {
    query: text,
    texts,
    return_text: { type: "boolean", description: "include each text in the answer" },
    truncate,
    model,
  },
} as const;

export const openaiEmbeddingsBody = {
  type: "object",
  required: ["input"],
  properties: {
    input: { type: ["string", "array"], minItems: 1, items: text, description: "a text or an array of texts" },
    model,
    encoding_format: { enum: ["float", "base64"], description: "numbers, or little-endian float32 bytes in base64" },
  },
} as const;

const labelScores = {
  type: "array",
  items: {
    type: "object",
    properties: { label: { type: "string" }, score: { type: "number" } },
  },
};

export const responses = {
  predict: {
    description:
      "for one input, its labels with scores (highest first); for a batch, one such list per input; a tagger answers { entities, tags } per input",
    oneOf: [labelScores, { type: "array", items: labelScores }],
  },
  embed: { type: "array", items: { type: "array", items: { type: "number" } } },
  rerank: {
    type: "array",
    items: {
      type: "object",
      properties: { index: { type: "integer" }, score: { type: "number" }, text: { type: "string" } },
    },
  },
  openaiEmbeddings: {
    type: "object",
    properties: {
      object: { const: "list" },
      data: {
        type: "array",
        items: {
          type: "object",
          properties: {
            object: { const: "embedding" },
            index: { type: "integer" },
            embedding: { type: ["array", "string"] },
          },
        },
      },
      model: { type: "string" },
      usage: {
        type: "object",
        properties: { prompt_tokens: { type: "integer" }, total_tokens: { type: "integer" } },
      },
    },
  },
  models: {
    type: "object",
    properties: {
      object: { const: "list" },
      data: {
        type: "array",
        items: {
          type: "object",
          properties: {
            id: { type: "string" },
            object: { const: "model" },
            created: { type: "integer" },
            owned_by: { type: "string" },
          },
        },
      },
    },
  },
  health: {
    type: "object",
    properties: {
      status: { enum: ["ok", "degraded", "draining"] },
      models: { type: "array" },
      drift_degraded: {
        type: "array",
        items: { type: "string" },
        description: "models whose drift report is degraded",
      },
    },
  },
  drift: {
    type: "object",
    description: "per model: its drift report (monitor/driftStatus), or null without a reference",
    properties: { models: { type: "object" } },
  },
  metrics: { type: "string", description: "Prometheus text format" },
  error: {
    type: "object",
    description: "TEI's shape; the /v1 routes answer OpenAI's { error: { message, type } }",
    properties: { error: { type: "string" }, error_type: { type: "string" } },
  },
} as const;
