/**
 * The `graft` command line. Each subcommand lives in its own file and exports register(program);
 * this file only wires them together and turns errors into one clear line and a non-zero exit code.
 */
import { Command, CommanderError } from "commander";
import { printError } from "./output.js";
import { version } from "./version.js";
import { register as registerDoctor } from "./doctor.js";
import { register as registerData } from "./data.js";
import { register as registerBaseline } from "./baseline.js";
import { register as registerPredict } from "./predict.js";
import { register as registerDownload } from "./download.js";
import { register as registerWord2Vec } from "./word2vec.js";
import { register as registerReport } from "./report.js";
import { register as registerFinetune } from "./finetune.js";
import { register as registerEval } from "./eval.js";
import { register as registerTokenizer } from "./tokenizer.js";
import { register as registerPretrain } from "./pretrain.js";
import { register as registerScore } from "./score.js";
import { register as registerTune } from "./tune.js";
import { register as registerWorker } from "./worker.js";
import { register as registerMonitor } from "./monitor.js";
import { register as registerServe } from "./serve.js";
import { register as registerTranslate } from "./translate.js";
import { register as registerGenerate } from "./generate.js";
import { register as registerChat } from "./chat.js";
import { register as registerSelect } from "./select.js";
import { register as registerSoup } from "./soup.js";
import { register as registerQuantize } from "./quantize.js";
import { register as registerCorpus } from "./corpus.js";
import { register as registerEnsemble } from "./ensemble.js";
import { register as registerDistill } from "./distill.js";
import { register as registerDashboard } from "./dashboard.js";
import { register as registerAnomaly } from "./anomaly.js";
import { register as registerRecommend } from "./recommend.js";
import { register as registerEmbed } from "./embed.js";
import { register as registerCluster } from "./cluster.js";
import { register as registerSearch } from "./search.js";
import { register as registerMultitask } from "./multitask.js";
import { register as registerActive } from "./active.js";
import { register as registerLaunch } from "./launch.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("graft")
    .description("Transfer learning for language models: pre-train, fine-tune, tune and evaluate, at native speed.")
    .version(version(), "-v, --version", "print graft's version")
    .showHelpAfterError("(run graft --help for usage)")
    .exitOverride();
  registerDoctor(program);
  registerData(program);
  registerBaseline(program);
  registerPredict(program);
  registerDownload(program);
  registerWord2Vec(program);
  registerReport(program);
  registerFinetune(program);
  registerEval(program);
  registerTokenizer(program);
  registerPretrain(program);
  registerScore(program);
  registerTune(program);
  registerWorker(program);
  registerMonitor(program);
  registerServe(program);
  registerTranslate(program);
  registerGenerate(program);
  registerChat(program);
  registerSelect(program);
  registerSoup(program);
  registerQuantize(program);
  registerCorpus(program);
  registerEnsemble(program);
  registerDistill(program);
  registerDashboard(program);
  registerAnomaly(program);
  registerRecommend(program);
  registerEmbed(program);
  registerCluster(program);
  registerSearch(program);
  registerMultitask(program);
  registerActive(program);
  registerLaunch(program);
  return program;
}

/** Runs the CLI on argv; returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  // output piped into `head` and closed early is not an error
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0; // a command may set its own (130 after Ctrl-C)
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (unknown command, bad flag, --help, --version)
      return e.exitCode;
    }
    printError(e);
    return 1;
  }
}
