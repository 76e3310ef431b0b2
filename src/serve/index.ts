/** graft's inference server: createServer(options) returns a Fastify instance serving saved model directories. */
export { createServer, ServeError, type ServeOptions } from "./server.js";
export { Batcher, type BatchingOptions, type BatchInput } from "./batcher.js";
export type { ModelInfo, ModelSource } from "./jobs.js";
