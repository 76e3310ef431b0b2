/**
 * The report page of `graft recommend eval`: the protocol, one metric table per split with every model (NDCG,
 * recall, precision, MAP, hit rate at each cut-off, MRR, catalogue coverage, popularity bias: the mean number of
 * training positives of the recommended items), training times, and a few users' histories beside each model's
 * recommendations. Built from src/report's HTML helpers.
 */
import { esc, fmt, page, table, type Cell, type Section } from "../report/html.js";
import type { EvaluationReport } from "./run.js";

export function renderRecommendReport(r: EvaluationReport, command?: string): string {
  const sections: Section[] = [];
  sections.push({
    id: "protocol",
    title: "Protocol",
    body:
      `<p>${r.interactions} interactions, ${r.users} users, ${r.items} items` +
      (r.duplicates ? `, ${r.duplicates} duplicate rows merged` : "") +
      `.</p><pre>${esc(r.protocol)}</pre>` +
      (command ? `<p>Command:</p><pre>${esc(command)}</pre>` : ""),
  });
  for (const split of ["warm", "cold", "cold-users"] as const) {
    const rows = r.results.filter((x) => x.split === split);
    if (rows.length === 0) continue;
    const cols: string[] = [];
    for (const k of r.ks) cols.push(`ndcg@${k}`, `recall@${k}`, `precision@${k}`, `map@${k}`, `hit-rate@${k}`);
    cols.push("mrr");
    for (const k of r.ks) cols.push(`coverage@${k}`, `popularity@${k}`);
    const best = Math.max(...rows.map((x) => x.metrics[`ndcg@${r.ks[0]}`] ?? 0));
    const headers = ["model", ...cols, "train s", "ms / epoch", "users", "skipped"];
    const body: Cell[][] = rows.map((x) => [
      x.model,
      ...cols.map((c) => (c.startsWith("popularity") ? x.metrics[c]!.toFixed(1) : fmt(x.metrics[c]))),
      (x.trainMs / 1000).toFixed(1),
      Math.round(x.epochMs),
      x.users,
      x.skippedUsers,
    ]);
    sections.push({
      id: split,
      title: split === "warm" ? "Warm items" : split === "cold" ? "Cold-start items" : "Cold-start users",
      body: table(headers, body, {
        numeric: headers.map((_, i) => i).slice(1),
        rowClass: (i) => (rows[i]!.metrics[`ndcg@${r.ks[0]}`] === best ? "best" : undefined),
        caption:
          "popularity@k: mean number of training positives of the recommended items (popularity bias); " +
          "coverage@k: share of the ranked catalogue that appears in some user's top k",
      }),
    });
  }
  if (r.examples.length > 0)
    sections.push({
      id: "examples",
      title: "Examples",
      body: r.examples
        .map((e) => {
          const models = Object.keys(e.recommendations);
          const n = Math.max(...models.map((m) => e.recommendations[m]!.length), 0);
          const rows: Cell[][] = Array.from({ length: n }, (_, i) => [
            i + 1,
            ...models.map((m) => e.recommendations[m]![i] ?? ""),
          ]);
          return (
            `<h3>user ${esc(e.user)}</h3><p><b>history</b> (first 15 positives): ${esc(e.history.join("; "))}</p>` +
            `<p><b>held out</b>: ${esc(e.heldOut.join("; "))}</p>` +
            table(["#", ...models], rows)
          );
        })
        .join("\n"),
    });
  return page({ title: "Recommendation evaluation", sections });
}
