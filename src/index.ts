/**
 * graft's public API: one explicit export list. Nothing inside src/ imports this file, and it never exports cli/.
 */
export { GraftError, ShapeError, ArgumentError, DataError, FormatError } from "./util/errors.js";
export { Rng, type RngState } from "./util/rng.js";
export { writeFileAtomic, writeJsonAtomic } from "./util/atomic.js";
export { backend, setBackend, withBackend, jsBackend, type Backend } from "./backend/index.js";
export * from "./tensor/index.js";
