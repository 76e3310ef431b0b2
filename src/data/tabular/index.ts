/** Tables of records: reading, column types and their encoding, permutation importance. */
export * from "./columns.js";
export { permutationImportance, type Importance } from "./importance.js";
