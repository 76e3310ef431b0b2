/** Training progress lines: the step out of the total and an ETA, in plain log lines and on a TTY. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { etaSeconds, formatDuration, progressCallback } from "../../src/cli/progress.js";
import type { Trainer } from "../../src/train/index.js";

/** A stream that keeps what is written; `tty` makes it look like a terminal to cli-progress. */
function capture(tty: boolean) {
  const out: string[] = [];
  const stream = {
    isTTY: tty,
    columns: 200,
    write: (s: string) => {
      out.push(s);
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { out, stream: stream as unknown as NodeJS.WriteStream };
}

test("plain progress lines show the step out of the total and an ETA from the rate since this process began", () => {
  const { out, stream } = capture(false);
  let ms = 0;
  const cb = progressCallback({ stream, now: () => ms });
  // a resumed run: 50 of 200 steps were done before
  const trainer = { totalSteps: 200, globalStep: 50 } as unknown as Trainer<unknown>;
  cb.onTrainBegin!(trainer);
  ms = 10_000;
  cb.onLog!(trainer, { step: 60, epoch: 1.5, loss: 0.5, lr: 1e-4, examples_per_s: 32 });
  assert.equal(out.length, 1);
  assert.match(out[0], /^step 60\/200 epoch 1\.50 loss 0\.5000 lr 1\.00e-4 32\.0 ex\/s ETA 2m20s\n$/);
});

test("the progress bar on a TTY shows the total and an ETA", () => {
  const { out, stream } = capture(true);
  const cb = progressCallback({ stream });
  const trainer = { totalSteps: 200, globalStep: 0 } as unknown as Trainer<unknown>;
  cb.onTrainBegin!(trainer);
  cb.onLog!(trainer, { step: 10, epoch: 0.1, loss: 0.5, lr: 1e-4, examples_per_s: 32 });
  cb.onTrainEnd!(trainer, {} as never);
  const text = out.join("");
  assert.match(text, /10\/200 steps/);
  assert.match(text, /ETA /);
});

test("ETA and durations", () => {
  assert.ok(Number.isNaN(etaSeconds(50, 200, 50, 3)));
  assert.equal(etaSeconds(100, 200, 0, 50), 50);
  assert.equal(formatDuration(45.2), "45s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(7620), "2h07m");
  assert.equal(formatDuration(NaN), "-");
});
