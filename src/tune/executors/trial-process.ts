/**
 * A child process that runs trials (executors/child.ts), with its own thread budget in GRAFT_THREADS: N trials in
 * N processes with cores/N threads each never oversubscribe the machine. A process that crashes (a native fault,
 * out of memory, killed) takes only its trial down; the caller decides what a crash means.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TrialSpec } from "../context.js";
import type { ObjectiveRef } from "../objectives/ref.js";
import type { TrialOutcome } from "../types.js";
import type { FromChild, ToChild } from "./protocol.js";

export type ProcessResult =
  | { kind: "outcome"; outcome: TrialOutcome }
  | { kind: "crashed"; error: string }
  | { kind: "timeout"; error: string };

export interface ProcessHooks {
  report(step: number, value: number): boolean | Promise<boolean>;
  attr(key: string, value: unknown): void;
}

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));
const STDERR_TAIL = 4000;

export class TrialProcess {
  private child: ChildProcess;
  private ready: Promise<void>;
  private stderrTail = "";
  private exited: { code: number | null; signal: string | null } | null = null;
  /** Set when we kill the process, before its exit event arrives: it must not be handed another trial. */
  private killed = false;
  private onExit: (() => void) | null = null;

  constructor(
    readonly threads: number,
    env: Record<string, string> = {},
  ) {
    this.child = fork(CHILD, [], {
      env: { ...process.env, ...env, GRAFT_THREADS: String(threads) },
      execArgv: process.execArgv.filter(
        (a) => a.startsWith("--enable-source-maps") || a.startsWith("--max-old-space-size"),
      ),
      serialization: "advanced",
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      process.stderr.write(d);
      this.stderrTail = (this.stderrTail + d.toString("utf8")).slice(-STDERR_TAIL);
    });
    this.ready = new Promise<void>((resolve) => {
      const onMessage = (m: FromChild) => {
        if (m.type === "ready") {
          this.child.off("message", onMessage);
          resolve();
        }
      };
      this.child.on("message", onMessage);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      this.onExit?.();
    });
    // a failed IPC write (the process died under us) shows up as its exit; without a listener it would crash us
    this.child.on("error", () => {
      this.killed = true;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === null && !this.killed;
  }

  /** Runs one trial in this process; with `timeoutMs`, kills the process when the trial takes longer. */
  async run(spec: TrialSpec, objective: ObjectiveRef, hooks: ProcessHooks, timeoutMs?: number): Promise<ProcessResult> {
    await Promise.race([
      this.ready,
      new Promise<void>((r) => {
        this.onExit = r;
      }),
    ]);
    if (!this.alive) return { kind: "crashed", error: this.crashMessage() };
    return new Promise<ProcessResult>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const finish = (r: ProcessResult) => {
        if (timer) clearTimeout(timer);
        this.child.off("message", onMessage);
        this.onExit = null;
        resolve(r);
      };
      const onMessage = (m: FromChild) => {
        if (m.type === "report" && m.number === spec.number) {
          void Promise.resolve(hooks.report(m.step, m.value)).then(
            (prune) => this.send({ type: "decision", number: m.number, step: m.step, prune }),
            () => this.send({ type: "decision", number: m.number, step: m.step, prune: false }),
          );
        } else if (m.type === "attr" && m.number === spec.number) hooks.attr(m.key, m.value);
        else if (m.type === "done" && m.number === spec.number) finish({ kind: "outcome", outcome: m.outcome });
      };
      this.child.on("message", onMessage);
      this.onExit = () => finish({ kind: "crashed", error: this.crashMessage() });
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          this.onExit = null;
          this.kill();
          finish({ kind: "timeout", error: `trial ${spec.number} timed out after ${timeoutMs / 1000} s` });
        }, timeoutMs);
      }
      this.send({ type: "run", spec: { ...spec, threads: this.threads }, objective });
    });
  }

  private send(m: ToChild): void {
    if (this.alive && this.child.connected)
      this.child.send(m, (e) => {
        if (e) this.killed = true;
      });
  }

  private crashMessage(): string {
    const how = this.exited?.signal ? `was killed by ${this.exited.signal}` : `exited with code ${this.exited?.code}`;
    const tail = this.stderrTail.trim().split("\n").slice(-6).join("\n");
    return `the trial process ${how}${tail ? `; its last output:\n${tail}` : ""}`;
  }

  kill(): void {
    if (this.alive) this.child.kill("SIGKILL");
    this.killed = true;
  }

  /** Ends the process politely (it exits when its IPC channel closes). */
  close(): void {
    if (this.alive && this.child.connected) this.child.disconnect();
  }
}
