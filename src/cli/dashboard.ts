/**
 * `graft dashboard [DIR...]`: the web UI over run and study directories (dashboard/server.ts), live while they are
 * written, on 127.0.0.1 unless --host says otherwise. SIGINT or SIGTERM stop it.
 */
import type { Command } from "commander";
import { opt, type Resolved, switchesOnly } from "../util/options.js";
import { createDashboard } from "../dashboard/index.js";
import { addOptions, resolveFlags } from "./options.js";

export const DASHBOARD_SWITCHES = switchesOnly({
  host: opt.string({ default: "127.0.0.1", help: "address to listen on (0.0.0.0 for every interface)" }),
  port: opt.integer({ default: 6006, min: 0, max: 65535, help: "port to listen on (0: any free port)" }),
  pollMs: opt.integer({ default: 1000, min: 100, help: "how often the folders are re-read for news, in ms" }),
  serve: opt.list("string", {
    default: [],
    flag: "--serve <url...>",
    help: "graft serve addresses whose drift (GET /drift) the Served page follows",
  }),
});
type DashboardFlags = Resolved<typeof DASHBOARD_SWITCHES>;

export function register(program: Command): void {
  const cmd = program
    .command("dashboard")
    .description("a web UI over run and study directories: runs table, curves, evaluations, studies; live")
    .argument("[dirs...]", "run or study directories, or folders holding them (default: runs)");
  addOptions(cmd, DASHBOARD_SWITCHES)
    .addHelpText(
      "after",
      "\nExamples:\n  graft dashboard runs/\n  graft dashboard runs/sst2 runs/lr-search --port 7000\n  graft dashboard runs/ --serve http://127.0.0.1:8080\n",
    )
    .action(async (dirs: string[], _: unknown, command: Command) => {
      const o: DashboardFlags = resolveFlags(DASHBOARD_SWITCHES, command);
      const roots = dirs.length ? dirs : ["runs"];
      const app = await createDashboard({ roots, pollMs: o.pollMs, serve: o.serve });
      const address = await app.listen({ host: o.host, port: o.port });
      process.stderr.write(`graft dashboard: ${address} (over ${roots.join(", ")}); Ctrl-C stops it\n`);
      await new Promise<void>((done) => {
        const stop = () => void app.close().then(done, done);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
