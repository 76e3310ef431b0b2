/** `graft quantize`: an fp32 model directory → an int8 one (dynamic quantization, src/models/quantize.ts). */
import type { Command } from "commander";
import { quantizeModelDir } from "../models/index.js";
import { runModelDir } from "../methods/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

export const QUANTIZE_SWITCHES = switchesOnly({
  model: opt.string({
    required: true,
    flag: "--model <dir>",
    help: "fp32 model directory (a fine-tuned run, its best/, or any model directory)",
  }),
  out: opt.string({ required: true, flag: "--out <dir>", help: "where the int8 model directory goes" }),
  json: opt.boolean({ help: "print JSON" }),
});

export function register(program: Command): void {
  const cmd = program
    .command("quantize")
    .description(
      "int8 dynamic quantization of a model's linear layers, into a model directory predict/eval/serve load",
    );
  addOptions(cmd, QUANTIZE_SWITCHES)
    .addHelpText("after", "\nExample:\n  graft quantize --model runs/sms/best --out runs/sms/int8\n")
    .action((_: unknown, command: Command) => {
      const f = resolveFlags(QUANTIZE_SWITCHES, command);
      let dir = f.model;
      try {
        dir = runModelDir(f.model);
      } catch {
        // not a fine-tuned run: any model directory will do
      }
      const r = quantizeModelDir(dir, f.out);
      if (f.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        const mb = (b: number) => (b / 1e6).toFixed(1);
        process.stdout.write(
          `int8 model written to ${r.out}: ${r.quantized.length} linear layers int8, ${r.kept.length} kept fp32 (${r.kept.join(", ") || "none"}); weights ${mb(r.bytesBefore)} MB → ${mb(r.bytesAfter)} MB\n`,
        );
      }
    });
}
