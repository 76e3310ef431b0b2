/**
 * `graft launch -np N -- <graft command>`: data-parallel training on MPI, a thin wrapper over mpirun. It prints the
 * mpirun command it runs (copy it to run mpirun yourself, with more of its options), starts it and exits with its
 * status. docs/distributed.md.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";
import { hasMpirun, mpirunArgs, mpirunEnv } from "../train/index.js";

export const LAUNCH_SWITCHES = switchesOnly({
  np: opt.string({
    flag: "-n, --np <ranks>",
    help: "ranks to start (mpirun's spelling -np works too)",
  }),
  hostfile: opt.string({ flag: "--hostfile <file>", help: "Open MPI hostfile: one `host slots=N` per line" }),
  dryRun: opt.boolean({ help: "print the mpirun command without running it" }),
});

/** The number of ranks, checked. */
function ranksOf(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1)
    throw new GraftError(
      value === undefined
        ? "graft launch: give the number of ranks, -np N"
        : `-np must be a positive integer, got "${value}"`,
      "e.g. graft launch -np 2 -- pretrain --corpus books/ --preset mini",
    );
  return n;
}

/** A command line as a shell would need it typed. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

export function register(program: Command): void {
  const cmd = program
    .command("launch")
    .description("data-parallel training on MPI: runs a graft command on N ranks with mpirun")
    .argument("<graft-args...>", "the graft command each rank runs, after --")
    .allowUnknownOption();
  addOptions(cmd, LAUNCH_SWITCHES)
    .addHelpText(
      "after",
      `
Examples:
  graft launch -np 2 -- pretrain --corpus books/ --preset mini --output runs/base
  graft launch -np 8 --hostfile hosts.txt -- finetune --model runs/base/best --data train.csv --output runs/clf
`,
    )
    .action(async (args: string[], _: unknown, command: Command) => {
      const f = resolveFlags(LAUNCH_SWITCHES, command);
      // commander reads mpirun's `-np 2` as `-n p` followed by the operand 2
      const dashNp = f.np === "p";
      const np = ranksOf(dashNp ? args[0] : f.np);
      const graftArgs = dashNp ? args.slice(1) : args;
      if (graftArgs.length === 0) throw new GraftError("graft launch: give the graft command after --");
      const bin = fileURLToPath(new URL("../../../bin/graft.js", import.meta.url));
      const argv = mpirunArgs({ np, hostfile: f.hostfile }, [process.execPath, bin, ...graftArgs]);
      process.stderr.write(`${shellLine(["mpirun", ...argv])}\n`);
      if (f.dryRun) return;
      if (!hasMpirun())
        throw new GraftError("mpirun is not installed", "install Open MPI: apt-get install openmpi-bin libopenmpi-dev");
      const child = spawn("mpirun", argv, { stdio: "inherit", env: mpirunEnv() });
      const forward = (s: NodeJS.Signals) => child.kill(s);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      const code = await new Promise<number>((resolve) =>
        child.on("exit", (c, sig) => resolve(c ?? (sig === "SIGTERM" ? 143 : 130))),
      );
      process.removeListener("SIGINT", forward);
      process.removeListener("SIGTERM", forward);
      process.exitCode = code;
    });
}
