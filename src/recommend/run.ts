/**
 * The recommendation runs behind `graft recommend`: read interactions (and item texts), split them by the stated
 * protocol, fit every named model on the same training positives, and score them all with the one harness
 * (src/recsys/evaluate.ts) on the warm split and, when asked, on a cold-start split; or fit one model on all the
 * data and save its vectors for serving.
 */
import { join, resolve } from "node:path";
import { ArgumentError } from "../util/errors.js";
import {
  BprMf,
  ImplicitAls,
  ItemKnn,
  MostPopular,
  coldStartSplit,
  coldUserSplit,
  evaluateRanking,
  itemsOf,
  makeProtocol,
  readInteractions,
  readItemTexts,
  readNames,
  splitInteractions,
  userItems,
  type DuplicateRule,
  type Interactions,
  type Recommender,
  type SplitProtocol,
} from "../recsys/index.js";
import { factorScorer, saveRecommender } from "./serving.js";
import { ItemEncoder, encodeItemTexts, type ItemEncoderMode, type TextVectors } from "./text.js";
import { TwoTower } from "./two-tower.js";
import {
  alignUserFeatures,
  readUserFeatures,
  type UserFeatureReadOptions,
  type UserFeatures,
} from "./user-features.js";

export const MODEL_NAMES = ["popularity", "itemknn", "bpr", "als", "two-tower"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface RecommendDataOptions {
  interactions: string;
  sep?: string;
  /** user, item, rating, timestamp columns (indexes or header names); "none" for no rating / no timestamp. */
  columns?: readonly string[];
  header?: boolean;
  duplicates?: DuplicateRule;
  items?: string;
  itemSep?: string;
  itemHeader?: boolean;
  itemTemplate?: string;
  itemFlagFirst?: number;
  /** File naming the flag columns, one a line (first field). */
  itemFlagNames?: string;
  itemEncoding?: BufferEncoding;
  /** User features: one user a line, the id and numeric or categorical columns (see user-features.ts). */
  userFeatures?: string;
  userFeatureOptions?: UserFeatureReadOptions;
}

export interface RecommendData {
  data: Interactions;
  /** One text per item (dense id order), when an item file was given. */
  texts: string[] | null;
  /** User features aligned with the dense user ids, when a user-feature file was given. */
  userFeatures?: UserFeatures | null;
}

export function loadRecommendData(o: RecommendDataOptions): RecommendData {
  let texts: Map<string, string> | null = null;
  if (o.items)
    texts = readItemTexts(o.items, {
      sep: o.itemSep,
      header: o.itemHeader,
      template: o.itemTemplate,
      flagFirst: o.itemFlagFirst,
      flagNames: o.itemFlagNames ? readNames(o.itemFlagNames, o.itemSep ?? "|") : undefined,
      encoding: o.itemEncoding,
    });
  const cols = o.columns ?? [];
  if (cols.length > 4) throw new ArgumentError(`--columns takes at most 4 names (user, item, rating, timestamp)`);
  const col = (i: number) => (cols[i] === undefined ? undefined : cols[i] === "none" ? null : cols[i]);
  const data = readInteractions(o.interactions, {
    sep: o.sep,
    header: o.header,
    duplicates: o.duplicates,
    columns: { user: col(0) ?? undefined, item: col(1) ?? undefined, rating: col(2), time: col(3) },
    knownItems: texts ? [...texts.keys()] : undefined,
  });
  const userFeatures = o.userFeatures
    ? alignUserFeatures(readUserFeatures(o.userFeatures, o.userFeatureOptions), data.users)
    : null;
  return { data, texts: texts ? data.items.map((i) => texts!.get(i)!) : null, userFeatures };
}

export interface ModelSettings {
  dim?: number;
  seed?: number;
  neighbours?: number;
  shrink?: number;
  bprEpochs?: number;
  alsEpochs?: number;
  alsAlpha?: number;
  /** Two-tower. */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  temperature?: number;
  loss?: "softmax" | "bpr";
  logQ?: boolean;
  idDropout?: number;
  userIds?: boolean;
  historyDropout?: number;
  itemEncoder?: ItemEncoderMode;
  encoderLr?: number;
  encoderItems?: number;
  loraRank?: number;
  encoderEpochs?: number;
}

/** A live item encoder for one two-tower fit (lora/full train it, so each fit loads its own), or null. */
async function liveEncoder(
  s: ModelSettings,
  encoder: string | undefined,
  texts: string[] | null,
): Promise<ItemEncoder | null> {
  if ((s.itemEncoder ?? "frozen") === "frozen") return null;
  if (!encoder || !texts) throw new ArgumentError(`a ${s.itemEncoder} item encoder needs --encoder and --items`);
  return ItemEncoder.load(encoder, texts);
}

export function makeModel(
  name: ModelName,
  s: ModelSettings,
  text: TextVectors | null,
  inputs: { encoder?: ItemEncoder | null; userFeatures?: UserFeatures | null } = {},
): Recommender {
  const seed = s.seed ?? 0;
  switch (name) {
    case "popularity":
      return new MostPopular();
    case "itemknn":
      return new ItemKnn({ neighbours: s.neighbours, shrink: s.shrink });
    case "bpr":
      return new BprMf({ dim: s.dim, epochs: s.bprEpochs, seed });
    case "als":
      return new ImplicitAls({ dim: s.dim, epochs: s.alsEpochs, alpha: s.alsAlpha, seed });
    case "two-tower":
      if (!text) throw new ArgumentError("the two-tower model needs item texts", "pass --items FILE");
      return new TwoTower(
        text,
        {
          dim: s.dim,
          epochs: s.epochs,
          batchSize: s.batchSize,
          lr: s.lr,
          temperature: s.temperature,
          loss: s.loss,
          logQ: s.logQ,
          idDropout: s.idDropout,
          userIds: s.userIds,
          historyDropout: s.historyDropout,
          itemEncoder: s.itemEncoder,
          encoderLr: s.encoderLr,
          encoderItems: s.encoderItems,
          loraRank: s.loraRank,
          encoderEpochs: s.encoderEpochs,
          seed,
        },
        inputs,
      );
  }
}

export interface EvaluateOptions {
  models: readonly ModelName[];
  protocol: SplitProtocol;
  testFraction?: number;
  /** Fraction of items held out for the cold-start split; 0 or undefined: no cold-start evaluation. */
  coldStart?: number;
  /** Fraction of users held out for the cold-start-user split; 0 or undefined: none. */
  coldUsers?: number;
  threshold: number;
  ks?: readonly number[];
  seed?: number;
  encoder?: string;
  textCache?: string;
  settings?: ModelSettings;
  log?: (line: string) => void;
}

export type SplitName = "warm" | "cold" | "cold-users";

export interface ModelResult {
  split: SplitName;
  model: ModelName;
  metrics: Record<string, number>;
  trainMs: number;
  epochMs: number;
  users: number;
  skippedUsers: number;
}

export interface UserExample {
  user: string;
  history: string[];
  heldOut: string[];
  recommendations: Record<string, string[]>;
}

export interface EvaluationReport {
  protocol: string;
  interactions: number;
  users: number;
  items: number;
  duplicates: number;
  threshold: number;
  ks: number[];
  results: ModelResult[];
  examples: UserExample[];
}

function describe(o: EvaluateOptions, split: SplitName): string {
  const pos = `ratings ≥ ${o.threshold} are positives`;
  if (split === "cold-users")
    return `cold-start users: ${Math.round((o.coldUsers ?? 0) * 100)}% of the users held out of training entirely (seed ${o.seed ?? 0}); each one's positives are ranked against all items; ${pos}`;
  if (split === "cold")
    return `cold start: ${Math.round((o.coldStart ?? 0) * 100)}% of the items held out of training entirely (seed ${o.seed ?? 0}); each user's positives among them are ranked against all cold items; ${pos}`;
  return o.protocol === "last"
    ? `leave-last-out by time: each user's latest interaction held out; full ranking over all items, training items excluded; ${pos}`
    : `per-user random ${Math.round((1 - (o.testFraction ?? 0.2)) * 100)}/${Math.round((o.testFraction ?? 0.2) * 100)} split (seed ${o.seed ?? 0}); full ranking over all items, training items excluded; ${pos}`;
}

export async function evaluateRecommenders(input: RecommendData, o: EvaluateOptions): Promise<EvaluationReport> {
  const { data, texts } = input;
  const log = o.log ?? (() => {});
  const ks = [...(o.ks ?? [10])];
  let text: TextVectors | null = null;
  if (o.models.includes("two-tower")) {
    if (!texts) throw new ArgumentError("the two-tower model needs item texts", "pass --items FILE");
    if (!o.encoder) throw new ArgumentError("the two-tower model needs an encoder (--encoder DIR)");
    log(`encoding ${texts.length} item texts with ${o.encoder}`);
    text = await encodeItemTexts(o.encoder, texts, { cache: o.textCache });
  }
  if (input.userFeatures)
    log(
      `user features: ${input.userFeatures.schema.columns.map((c) => `${c.name} (${c.type})`).join(", ")}; ${input.userFeatures.missing} users without features (missing indicator), ${input.userFeatures.ignored} feature rows of unknown users ignored`,
    );
  const splits: [SplitName, ReturnType<typeof splitInteractions>][] = [
    ["warm", splitInteractions(data, { protocol: o.protocol, testFraction: o.testFraction, seed: o.seed })],
  ];
  if (o.coldStart) splits.push(["cold", coldStartSplit(data, { fraction: o.coldStart, seed: o.seed })]);
  if (o.coldUsers) splits.push(["cold-users", coldUserSplit(data, { fraction: o.coldUsers, seed: o.seed })]);
  const results: ModelResult[] = [];
  const examples: UserExample[] = [];
  for (const [name, split] of splits) {
    const p = makeProtocol(data, split, o.threshold);
    log(`${name}: ${describe(o, name)}; ${p.users.length} users evaluated, ${p.skippedUsers} skipped (no positive)`);
    const exampleUsers = name === "warm" ? Array.from(p.users.slice(0, 3)) : [];
    const recs: Record<string, string[]>[] = exampleUsers.map(() => ({}));
    for (const m of o.models) {
      const model = makeModel(
        m,
        o.settings ?? {},
        text,
        m === "two-tower"
          ? {
              encoder: await liveEncoder(o.settings ?? {}, o.encoder, texts),
              userFeatures: input.userFeatures ?? null,
            }
          : {},
      );
      const epochs: number[] = [];
      const t0 = performance.now();
      model.fit(p.train, {
        onEpoch: (e, ms) => {
          epochs.push(ms);
          if (m === "two-tower" || m === "bpr" || m === "als") log(`  ${name} ${m} epoch ${e}: ${ms.toFixed(0)} ms`);
        },
      });
      const trainMs = performance.now() - t0;
      const f = model.factors?.();
      const scorer = f ? factorScorer(f) : (u: Int32Array, out: Float32Array) => model.score(u, out);
      const r = evaluateRanking(scorer, p, { ks });
      const epochMs = epochs.reduce((a, b) => a + b, 0) / Math.max(1, epochs.length);
      results.push({
        split: name,
        model: m,
        metrics: r.metrics,
        trainMs,
        epochMs,
        users: r.users,
        skippedUsers: r.skippedUsers,
      });
      log(
        `  ${name} ${m}: ndcg@${ks[0]} ${r.metrics[`ndcg@${ks[0]}`]!.toFixed(4)} recall@${ks[0]} ${r.metrics[`recall@${ks[0]}`]!.toFixed(4)} (${(trainMs / 1000).toFixed(1)} s)`,
      );
      exampleUsers.forEach((u, k) => {
        const at = Array.from(p.users).indexOf(u);
        recs[k]![m] = Array.from(r.lists[at]!, (i) => label(input, i));
      });
    }
    exampleUsers.forEach((u, k) =>
      examples.push({
        user: data.users[u]!,
        history: Array.from(itemsOf(p.train, u), (i) => label(input, i)).slice(0, 15),
        heldOut: Array.from(itemsOf(p.test, u), (i) => label(input, i)),
        recommendations: recs[k]!,
      }),
    );
  }
  return {
    protocol: splits.map(([n]) => `${n}: ${describe(o, n)}`).join("\n"),
    interactions: data.user.length,
    users: data.users.length,
    items: data.items.length,
    duplicates: data.duplicates,
    threshold: o.threshold,
    ks,
    results,
    examples,
  };
}

function label(input: RecommendData, i: number): string {
  return input.texts ? `${input.data.items[i]}: ${input.texts[i]}` : input.data.items[i]!;
}

/** Fits one model on all interactions (positives: rating ≥ threshold) and saves its vectors for serving. */
export async function trainRecommender(
  input: RecommendData,
  o: {
    model: ModelName;
    threshold: number;
    output: string;
    encoder?: string;
    textCache?: string;
    settings?: ModelSettings;
    log?: (line: string) => void;
  },
): Promise<{ output: string; trainMs: number }> {
  const { data, texts } = input;
  if (o.model === "itemknn")
    throw new ArgumentError(
      "itemknn has no vector form to save",
      "save popularity, bpr, als or two-tower; evaluate itemknn with graft recommend eval",
    );
  let text: TextVectors | null = null;
  if (o.model === "two-tower") {
    if (!texts) throw new ArgumentError("the two-tower model needs item texts", "pass --items FILE");
    text = await encodeItemTexts(o.encoder!, texts, { cache: o.textCache });
  }
  const all = Int32Array.from({ length: data.user.length }, (_, r) => r);
  const train = userItems(data, all, o.threshold);
  const seen = userItems(data, all);
  const settings = o.settings ?? {};
  const encoder = o.model === "two-tower" ? await liveEncoder(settings, o.encoder, texts) : null;
  const model = makeModel(o.model, settings, text, { encoder, userFeatures: input.userFeatures ?? null });
  const t0 = performance.now();
  model.fit(train, { onEpoch: (e, ms) => o.log?.(`epoch ${e}: ${ms.toFixed(0)} ms`) });
  const trainMs = performance.now() - t0;
  const tower = model instanceof TwoTower ? model : null;
  saveRecommender(o.output, {
    model: o.model,
    factors: model.factors!(),
    users: data.users,
    items: data.items,
    seen,
    ...(texts ? { itemTexts: texts } : {}),
    settings: { threshold: o.threshold, ...settings },
    ...(tower
      ? {
          userTower: tower.userTower(),
          itemHead: {
            ...tower.itemHead(),
            mode: encoder ? encoder.save(join(o.output, "item_encoder")) : "frozen",
            encoder: resolve(o.encoder!),
          },
        }
      : {}),
  });
  return { output: o.output, trainMs };
}
