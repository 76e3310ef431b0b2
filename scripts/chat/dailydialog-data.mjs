// Converts DailyDialog (../shared/datasets/dailydialog) into the files of the chat recipe in docs/chat.md.
//
// Usage: node scripts/chat/dailydialog-data.mjs [DATASET_DIR] [OUT_DIR]
//   (defaults ../shared/datasets/dailydialog and runs/dailydialog/data)
//
// The shared copy has no official train split, so its 1,000 `validation` dialogues are the training dialogues and
// its 1,000 `test` dialogues the test set. The training dialogues are shuffled (seed 0) and cut by dialogue into
//   old-train 600 | old-heldout 100 | new-train 250 | new-heldout 50
// ("old": what the first fine-tuning sees; "new": the slice of continued learning). Utterances are the ` __eou__ `
// separated turns, kept as the dataset writes them (tokenized, spaces around punctuation). Written:
//   pretrain.jsonl        {text}: old-train and new-train dialogues, one utterance a line (never held-out or test)
//   old-train.jsonl, new-train.jsonl      {messages}, both readings of each dialogue: speaker A as the user and
//                                         B as the assistant, then B as the user (from B's first turn) and A as the
//                                         assistant, so every utterance is an assistant turn once
//   old-heldout.jsonl, new-heldout.jsonl, test.jsonl      {messages}, speaker A as the user
//   new-train-replay.jsonl  new-train.jsonl's records and a replay of a quarter as many old-train records (seeded),
//                           shuffled: continued learning with a replay fraction of the old data
// A conversation's trailing user turn is dropped (nothing answers it); conversations with no assistant turn left are
// skipped.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dataset = "../shared/datasets/dailydialog", out = "runs/dailydialog/data"] = process.argv.slice(2);

function readDialogues(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line, i) => {
      const turns = line
        .split("__eou__")
        .map((u) => u.trim())
        .filter((u) => u !== "");
      if (turns.length === 0) throw new Error(`${file}:${i + 1}: a dialogue with no utterance`);
      return turns;
    });
}

/** mulberry32: a small seeded generator, so the split is the same everywhere */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(xs, seed) {
  const r = rng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** user, assistant, user, ... ending with an assistant turn (null when none is left) */
function conversation(turns) {
  const t = turns.length % 2 === 1 ? turns.slice(0, -1) : turns;
  if (t.length < 2) return null;
  return { messages: t.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content })) };
}

const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
function write(name, rows) {
  writeFileSync(join(out, name), jsonl(rows));
  console.log(`${join(out, name)}: ${rows.length} records`);
}

const training = shuffle(readDialogues(join(dataset, "validation", "dialogues_validation.txt")), 0);
const test = readDialogues(join(dataset, "test", "dialogues_test.txt"));
const parts = {
  oldTrain: training.slice(0, 600),
  oldHeldout: training.slice(600, 700),
  newTrain: training.slice(700, 950),
  newHeldout: training.slice(950, 1000),
};
const bothReadings = (ds) => ds.flatMap((d) => [conversation(d), conversation(d.slice(1))]).filter((c) => c !== null);
const oneReading = (ds) => ds.map(conversation).filter((c) => c !== null);

mkdirSync(out, { recursive: true });
write(
  "pretrain.jsonl",
  [...parts.oldTrain, ...parts.newTrain].map((d) => ({ text: d.join("\n") })),
);
const oldTrain = bothReadings(parts.oldTrain);
write("old-train.jsonl", oldTrain);
const newTrain = bothReadings(parts.newTrain);
write("new-train.jsonl", newTrain);
const replay = shuffle(oldTrain, 1).slice(0, Math.round(newTrain.length / 4));
write("new-train-replay.jsonl", shuffle([...newTrain, ...replay], 2));
write("old-heldout.jsonl", oneReading(parts.oldHeldout));
write("new-heldout.jsonl", oneReading(parts.newHeldout));
write("test.jsonl", oneReading(test));
