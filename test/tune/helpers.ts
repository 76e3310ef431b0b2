/**
 * Helpers for the tune tests, and an entry point for child processes they start. Run with no arguments (as
 * `node --test` does with every file under test/), this file does nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = fileURLToPath(import.meta.url);

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = "graft-tune-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Starts `graft <args>` (this build's CLI) in a child process. */
export function spawnGraft(
  args: string[],
  opts: { detached?: boolean; env?: Record<string, string> } = {},
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [HERE, "graft", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached,
    env: { ...process.env, ...opts.env },
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return Object.assign(child, { output: () => out });
}

/** Runs `graft <args>` to the end; resolves to its exit code and output. */
export function runGraft(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawnGraft(args, { env });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output: child.output() })));
}

/**
 * Runs `graft <args>` in this process (saving a process start per call), capturing what it prints; resolves to
 * its exit code and output.
 */
export async function graft(args: string[]): Promise<{ code: number; output: string }> {
  const { run } = await import("../../src/cli/main.js");
  let output = "";
  const out = process.stdout.write,
    err = process.stderr.write;
  // the CLI writes strings; node --test's own reports from this process are binary chunks and pass through
  const capture = (stream: NodeJS.WriteStream, orig: typeof out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== "string") return (orig as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      output += chunk;
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(process.stdout, out);
  process.stderr.write = capture(process.stderr, err);
  try {
    return { code: await run([process.argv[0]!, "graft", ...args]), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (process.argv[2] === "graft") {
  const { run } = await import("../../src/cli/main.js");
  process.exitCode = await run([process.argv[0]!, "graft", ...process.argv.slice(3)]);
}
