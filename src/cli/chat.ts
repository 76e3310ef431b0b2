/**
 * `graft chat`: an interactive session with a language model. Each reply streams token by token; the conversation
 * is kept and sent again each turn (the oldest turns are dropped when it no longer fits the model's positions).
 * Commands: /reset (forget the conversation), /system TEXT (set the system message), /save FILE (write the
 * conversation as JSON), /exit. When stdin is not a terminal, each line is a user message and only replies are
 * printed, one per line.
 *
 * The prompt: a chat template (tokenizer_config.json's chat_template) is what a chat model was trained with, and
 * it is used when the model has one once graft's template renderer (src/chat/) is wired in here; until then, and
 * for models without one, the conversation is a plain transcript — "System: …", "User: …", "Assistant: …" lines
 * ending with "Assistant:" — and a reply ends at the model's end token or where it starts a "User:" line.
 */
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { GraftError } from "../util/errors.js";
import { opt, switchesOnly } from "../util/options.js";
import { generateStream } from "../models/index.js";
import { addOptions, resolveFlags } from "./options.js";
import { GENERATION_FLAGS, generationOptions, loadTextGenerator, type TextGenerator } from "./generate.js";
import { printError } from "./output.js";

export const CHAT_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "model directory (config.json, weights, tokenizer)",
  }),
  system: opt.string({ flag: "--system <text>", help: "system message at the start of the conversation" }),
  maxNewTokens: opt.integer({ default: 128, gt: 0, flag: "--max-new-tokens <n>", help: "longest reply, in tokens" }),
  ...GENERATION_FLAGS,
});

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

const ROLE_NAMES = { system: "System", user: "User", assistant: "Assistant" } as const;

/**
 * The plain transcript a model without a chat template reads: one "Role: text" line per message, then
 * "Assistant:" for the reply. (A model's chat template replaces this once src/chat/'s renderer is wired in.)
 */
export function renderTranscript(messages: readonly ChatMessage[]): string {
  return `${messages.map((m) => `${ROLE_NAMES[m.role]}: ${m.content}`).join("\n")}\nAssistant:`;
}

/** Where a reply ends in a transcript: the model starting the user's next line. */
export const TRANSCRIPT_STOPS = ["\nUser:"];

/** One conversation: its messages and how one turn runs. */
export class ChatSession {
  system: string | null;
  history: ChatMessage[] = [];

  constructor(
    readonly g: TextGenerator,
    readonly opts: ReturnType<typeof generationOptions> & { maxNewTokens: number },
    system: string | null = null,
  ) {
    this.system = system;
  }

  messages(history: readonly ChatMessage[] = this.history): ChatMessage[] {
    return [...(this.system ? [{ role: "system" as const, content: this.system }] : []), ...history];
  }

  /**
   * The prompt's token ids, dropping the oldest user/assistant pairs while prompt + reply exceed the model's
   * positions (the history keeps what was sent); returns how many messages were dropped.
   */
  async prompt(): Promise<{ ids: number[]; dropped: number }> {
    let kept = this.history;
    for (;;) {
      const ids = await this.g.encode(renderTranscript(this.messages(kept)));
      const limit = this.g.maxPositions;
      if (limit === null || ids.length + this.opts.maxNewTokens <= limit) {
        const dropped = this.history.length - kept.length;
        this.history = kept;
        return { ids, dropped };
      }
      if (kept.length <= 1)
        throw new GraftError(
          `the message is ${ids.length} tokens with the system message; with ${this.opts.maxNewTokens} for the reply that exceeds the model's ${limit} positions`,
          "write a shorter message or lower --max-new-tokens",
        );
      kept = kept.slice(2);
    }
  }

  /** Sends a user message; writes the reply as it streams; returns it. */
  async turn(text: string, write: (s: string) => void, signal?: AbortSignal): Promise<string> {
    this.history.push({ role: "user", content: text });
    let reply = "";
    try {
      const { ids, dropped } = await this.prompt();
      if (dropped) process.stderr.write(`(dropped the ${dropped} oldest messages to fit the model's positions)\n`);
      const stops = [...TRANSCRIPT_STOPS, ...(this.opts.stopStrings ? [this.opts.stopStrings].flat() : [])];
      let first = true;
      for await (const c of generateStream(this.g.model, ids, {
        ...this.opts,
        stopStrings: stops,
        decode: (i) => this.g.decode(i),
        signal,
      })) {
        let t = c.text;
        if (first && t) {
          t = t.replace(/^ /, ""); // "Assistant:" is followed by a space the reply does not need
          if (t) first = false;
        }
        reply += t;
        if (t) write(t);
      }
    } catch (e) {
      this.history.pop();
      throw e;
    }
    reply = reply.trim();
    this.history.push({ role: "assistant", content: reply });
    return reply;
  }

  save(path: string): number {
    writeFileSync(path, `${JSON.stringify({ messages: this.messages() }, null, 2)}\n`);
    return this.messages().length;
  }
}

const HELP = "commands: /reset, /system TEXT, /save FILE, /exit";

export function register(program: Command): void {
  const cmd = program
    .command("chat")
    .description("talk with a language model: replies stream, the conversation is kept");
  addOptions(cmd, CHAT_SWITCHES)
    .addHelpText(
      "after",
      `\nIn the session: ${HELP}.\nExamples:\n  graft chat --model runs/sft/best\n  graft chat --model runs/sft/best --do-sample --temperature 0.7 --top-p 0.9 --system "You are terse."\n  echo "Hello" | graft chat --model runs/sft/best\n`,
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(CHAT_SWITCHES, command);
      const g = loadTextGenerator(f.model, { allowNonFinite: f.allowNonfinite });
      if (g.seq2seq)
        throw new GraftError(
          `${f.model} is an encoder-decoder; chat needs a causal language model`,
          "use graft generate",
        );
      const session = new ChatSession(g, { ...generationOptions(f), maxNewTokens: f.maxNewTokens }, f.system ?? null);
      const tty = process.stdin.isTTY === true;
      const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
      const note = (s: string) => process.stderr.write(`${s}\n`);
      if (tty) {
        note(`graft chat with ${f.model} (${HELP}; Ctrl-C stops a reply)`);
        rl.setPrompt("> ");
        rl.prompt();
      }
      let generating: AbortController | null = null;
      rl.on("SIGINT", () => {
        if (generating) generating.abort();
        else rl.close();
      });
      for await (const raw of rl) {
        const line = raw.trim();
        if (line === "") {
          if (tty) rl.prompt();
          continue;
        }
        if (line.startsWith("/")) {
          const [name, ...rest] = line.split(/\s+/);
          const arg = line.slice(name.length).trim();
          if (name === "/exit" || name === "/quit") break;
          if (name === "/reset") {
            session.history = [];
            note("(conversation cleared)");
          } else if (name === "/system") {
            session.system = arg || null;
            note(arg ? "(system message set)" : "(system message removed)");
          } else if (name === "/save") {
            if (!rest.length) note("usage: /save FILE");
            else {
              try {
                note(`(saved ${session.save(arg)} messages to ${arg})`);
              } catch (e) {
                printError(e);
              }
            }
          } else note(`unknown command ${name} (${HELP})`);
          if (tty) rl.prompt();
          continue;
        }
        generating = new AbortController();
        try {
          await session.turn(line, (s) => process.stdout.write(s), generating.signal);
          process.stdout.write("\n");
        } catch (e) {
          printError(e);
        } finally {
          generating = null;
        }
        if (tty) rl.prompt();
      }
      rl.close();
    });
}
