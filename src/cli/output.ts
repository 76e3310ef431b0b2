/** How commands print: results to stdout, diagnostics to stderr, colour only when wanted (NO_COLOR honoured). */
import { GraftError } from "../util/errors.js";

export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  return !("NO_COLOR" in process.env) && stream.isTTY === true;
}

export function printError(e: unknown): void {
  const red = useColor() ? (s: string) => `\x1b[31m${s}\x1b[0m` : (s: string) => s;
  if (e instanceof GraftError) {
    process.stderr.write(`${red("error:")} ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  } else if (e instanceof Error) {
    process.stderr.write(`${red("error:")} ${e.message}\n`);
    if (process.env.GRAFT_DEBUG) process.stderr.write(`${e.stack}\n`);
  } else {
    process.stderr.write(`${red("error:")} ${String(e)}\n`);
  }
}
