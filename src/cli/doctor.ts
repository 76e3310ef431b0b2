/** `graft doctor`: what graft runs on here (backend, SIMD level, threads). */
import type { Command } from "commander";
import { backend } from "../backend/index.js";
import { loadNativeBackend } from "../backend/native.js";
import { threadCount } from "../util/env.js";
import { addOptions, jsonSwitch, resolveFlags } from "./options.js";
import { version } from "./version.js";

export function environmentReport(): Record<string, string | number> {
  const b = backend();
  const native = loadNativeBackend();
  const info = (b as unknown as { info?: () => Record<string, string | number> }).info?.() ?? {};
  return {
    graft: version(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: b.name,
    ...(b.name === "js" && native.reason ? { native: native.reason } : {}),
    threads: b.name === "js" ? 1 : threadCount(),
    ...info,
  };
}

export const DOCTOR_SWITCHES = jsonSwitch("print JSON");

export function register(program: Command): void {
  const cmd = program.command("doctor").description("show the backend, SIMD level and thread count graft runs with");
  addOptions(cmd, DOCTOR_SWITCHES)
    .addHelpText("after", "\nExamples:\n  graft doctor\n  GRAFT_BACKEND=js graft doctor --json\n")
    .action((_: unknown, command: Command) => {
      const opts = resolveFlags(DOCTOR_SWITCHES, command);
      const r = environmentReport();
      if (opts.json) process.stdout.write(JSON.stringify(r) + "\n");
      else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(10)} ${v}\n`);
    });
}
