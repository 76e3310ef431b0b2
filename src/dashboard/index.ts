/** The dashboard: a live web UI over run and study directories (see server.ts). */
export { createDashboard, type DashboardOptions } from "./server.js";
export { discover, entryRow, type Entry, type EntryRow } from "./entries.js";
export { paramImportance } from "./importance.js";
export { worstPredictions, type WorstPredictions } from "./predictions.js";
