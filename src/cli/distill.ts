/** `graft distill`: distil a fine-tuned classifier into a smaller student (src/methods/distill.ts). */
import type { Command } from "commander";
import { distill } from "../methods/index.js";
import { opt, switchesOnly } from "../util/options.js";
import { addOptions, resolveFlags } from "./options.js";

export const DISTILL_SWITCHES = switchesOnly({
  teacher: opt.string({ required: true, flag: "--teacher <dir>", help: "fine-tuned classifier (a run or its best/)" }),
  data: opt.string({ required: true, flag: "--data <file>", help: "labelled training file (CSV/TSV/JSONL)" }),
  validation: opt.string({ flag: "--validation <file>", help: "validation file", defaultHelp: "held out from --data" }),
  test: opt.string({ flag: "--test <file>", help: "test file", defaultHelp: "held out from --data" }),
  output: opt.string({ required: true, flag: "--output <dir>", help: "the student's run directory" }),
  student: opt.string({
    flag: "--student <dir>",
    help: "pre-trained student with the teacher's tokenizer",
    defaultHelp: "every other teacher layer",
  }),
  temperature: opt.number({ default: 2, gt: 0, help: "softmax temperature T of the soft targets" }),
  alpha: opt.number({
    default: 0.5,
    min: 0,
    max: 1,
    help: "weight of the soft (KL × T²) loss; 1 - alpha weighs the hard labels",
  }),
  epochs: opt.integer({ default: 3, min: 1, help: "passes over the training data" }),
  lr: opt.number({ default: 5e-5, gt: 0, help: "peak learning rate" }),
  batchSize: opt.integer({ default: 16, min: 1, help: "examples per step" }),
  seed: opt.integer({ default: 42, help: "seed of dropout and data order" }),
  metric: opt.string({
    default: "loss",
    flag: "--metric <name>",
    help: "validation metric that picks the best student (kl_loss: the closest to the teacher)",
  }),
  overwrite: opt.boolean({ help: "clear --output if it holds a run" }),
  json: opt.boolean({ help: "print JSON" }),
});

export function register(program: Command): void {
  const cmd = program
    .command("distill")
    .description("distil a fine-tuned classifier into a smaller student (soft targets at a temperature + hard labels)");
  addOptions(cmd, DISTILL_SWITCHES)
    .addHelpText(
      "after",
      "\nExample:\n  graft distill --teacher runs/sst2/best --data train.csv --output runs/student --temperature 2 --alpha 0.5\n",
    )
    .action(async (_: unknown, command: Command) => {
      const f = resolveFlags(DISTILL_SWITCHES, command);
      const log = f.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
      const r = await distill({
        teacher: f.teacher,
        data: f.data,
        validation: f.validation,
        test: f.test,
        output: f.output,
        student: f.student,
        temperature: f.temperature,
        alpha: f.alpha,
        config: {
          training: { epochs: f.epochs, lr: f.lr, batchSize: f.batchSize, seed: f.seed, metricForBest: f.metric },
        },
        overwrite: f.overwrite,
        log,
      });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
      }
      const lines = [
        `student: ${r.studentLayers} of the teacher's ${r.teacherLayers} layers, ${r.studentParameters} of ${r.teacherParameters} parameters, in ${r.bestDir}`,
        `on ${r.testSplit}:            teacher   student   kept`,
        ...Object.entries(r.teacher)
          .filter(([k]) => k in r.student)
          .map(
            ([k, v]) =>
              `  ${k.padEnd(18)} ${v.toFixed(4).padEnd(9)} ${r.student[k].toFixed(4).padEnd(9)} ${k in r.kept ? `${(100 * r.kept[k]).toFixed(1)}%` : ""}`,
          ),
        `inference: teacher ${r.teacherExamplesPerSecond.toFixed(1)} examples/s, student ${r.studentExamplesPerSecond.toFixed(1)} examples/s, speed-up ${r.speedup.toFixed(2)}×`,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
