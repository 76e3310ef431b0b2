import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { downloadModel, hubFile, resolveModelDir, type Progress } from "../../src/io/hub.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint.js";
import { readConfig } from "../../src/models/index.js";
import { GraftError, FormatError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { randn } from "../../src/tensor/index.js";
import { startHub, repoFromDir } from "./hub-server.js";
import { fixture, tmpDir } from "./helpers.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const tinyBert = fixture("io", "hub", "tiny-bert");

test("downloads a model in the hub layout, resumes a dropped connection, and reuses the cache (also offline)", async () => {
  const hub = await startHub({ "graft-test/tiny-bert": repoFromDir(tinyBert, COMMIT) });
  const cacheDir = tmpDir();
  const size = readFileSync(join(tinyBert, "model.safetensors")).length;
  hub.faults.push({ file: "model.safetensors", after: 3000 });
  const progress: Progress[] = [];
  try {
    const dir = await downloadModel("graft-test/tiny-bert", {
      endpoint: hub.url,
      cacheDir,
      token: false,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(dir, join(cacheDir, "models--graft-test--tiny-bert", "snapshots", COMMIT));
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]) {
      assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(tinyBert, f)), f);
    }
    assert.equal(existsSync(join(dir, "vocab.txt")), false, "vocab files are skipped when tokenizer.json exists");
    assert.ok(lstatSync(join(dir, "config.json")).isSymbolicLink(), "snapshot entries link into blobs/");
    assert.equal(readFileSync(join(cacheDir, "models--graft-test--tiny-bert", "refs", "main"), "utf8"), COMMIT);
    assert.equal(readConfig(dir).model_type, "bert");
    assert.equal(loadCheckpoint(dir).get("bert.embeddings.word_embeddings.weight")!.shape[1], 8);

    const gets = hub.requests.filter((r) => r.method === "GET" && r.path.startsWith("/cdn/"));
    assert.deepEqual(
      gets.map((r) => r.range),
      [undefined, "bytes=3000-"],
      "the second request resumes where the connection dropped",
    );
    assert.ok(progress.some((p) => p.file === "model.safetensors" && p.phase === "resume"));
    assert.ok(progress.some((p) => p.file === "model.safetensors" && p.phase === "done" && p.received === size));
    assert.ok(
      hub.requests.some(
        (r) => r.method === "HEAD" && r.path === "/graft-test/tiny-bert/resolve/main/added_tokens.json",
      ),
      "optional files are asked for",
    );

    // again: only HEAD requests, nothing transferred
    hub.requests.length = 0;
    assert.equal(await downloadModel("graft-test/tiny-bert", { endpoint: hub.url, cacheDir, token: false }), dir);
    assert.deepEqual([...new Set(hub.requests.map((r) => r.method))], ["HEAD"]);

    // offline: no request at all; absent optional files are remembered as absent
    hub.requests.length = 0;
    assert.equal(await downloadModel("graft-test/tiny-bert", { endpoint: hub.url, cacheDir, offline: true }), dir);
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
  // the hub is gone: the cache answers
  assert.equal(
    await resolveModelDir("graft-test/tiny-bert", { endpoint: hub.url, cacheDir, token: false, retries: 0 }),
    join(cacheDir, "models--graft-test--tiny-bert", "snapshots", COMMIT),
  );
  await assert.rejects(
    downloadModel("graft-test/other", { endpoint: hub.url, cacheDir, token: false }),
    (e: Error) =>
      e instanceof GraftError &&
      /graft-test\/other: config\.json at revision "main" is not in the cache .* the hub cannot be reached/.test(
        e.message,
      ),
  );
});

test("an interrupted download is resumed by the next run, from the partial file it left", async () => {
  const hub = await startHub({ "graft-test/tiny-bert": repoFromDir(tinyBert, COMMIT) });
  const cacheDir = tmpDir();
  hub.faults.push({ file: "model.safetensors", after: 4000, times: 1 });
  try {
    await assert.rejects(
      hubFile("graft-test/tiny-bert", "model.safetensors", { endpoint: hub.url, cacheDir, token: false, retries: 0 }),
      (e: Error) =>
        e instanceof GraftError &&
        /downloading model\.safetensors failed after 1 attempts/.test(e.message) &&
        /resumes/.test((e as GraftError).hint ?? ""),
    );
    const blobs = readdirSync(join(cacheDir, "models--graft-test--tiny-bert", "blobs"));
    assert.equal(blobs.filter((b) => b.endsWith(".incomplete")).length, 1);
    hub.requests.length = 0;
    const path = await hubFile("graft-test/tiny-bert", "model.safetensors", {
      endpoint: hub.url,
      cacheDir,
      token: false,
      retries: 0,
    });
    assert.deepEqual(readFileSync(path!), readFileSync(join(tinyBert, "model.safetensors")));
    assert.deepEqual(
      hub.requests.filter((r) => r.method === "GET" && r.path.startsWith("/cdn/")).map((r) => r.range),
      ["bytes=4000-"],
    );
    assert.deepEqual(
      readdirSync(join(cacheDir, "models--graft-test--tiny-bert", "blobs")).filter((b) =>
        /\.(incomplete|lock)$/.test(b),
      ),
      [],
    );
  } finally {
    await hub.close();
  }
});

test("a transfer that does not match the hub's hash is refused and not cached", async () => {
  const hub = await startHub({ "graft-test/tiny-bert": repoFromDir(tinyBert, COMMIT) });
  const cacheDir = tmpDir();
  try {
    const real = readFileSync(join(tinyBert, "model.safetensors"));
    const bad = Uint8Array.from(real);
    bad[100] ^= 0xff;
    hub.corrupt.set("model.safetensors", bad);
    await assert.rejects(
      hubFile("graft-test/tiny-bert", "model.safetensors", { endpoint: hub.url, cacheDir, token: false }),
      (e: Error) =>
        e instanceof FormatError &&
        /model\.safetensors: sha256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64}/.test(e.message),
    );
    hub.corrupt.set(
      "config.json",
      Buffer.from(readFileSync(join(tinyBert, "config.json"), "utf8").replace("bert", "BERT")),
    );
    await assert.rejects(
      hubFile("graft-test/tiny-bert", "config.json", { endpoint: hub.url, cacheDir, token: false }),
      /git blob sha1 .* does not match/,
    );
    const blobs = readdirSync(join(cacheDir, "models--graft-test--tiny-bert", "blobs"));
    assert.deepEqual(blobs, [], "nothing corrupt is kept");
    hub.corrupt.clear();
    assert.ok(await hubFile("graft-test/tiny-bert", "config.json", { endpoint: hub.url, cacheDir, token: false }));
  } finally {
    await hub.close();
  }
});

test("404s: a missing optional file is null, a repo without config or weights is refused, an unknown repo points at the token", async () => {
  const noWeights = tmpDir();
  writeFileSync(join(noWeights, "config.json"), readFileSync(join(tinyBert, "config.json")));
  writeFileSync(join(noWeights, "pytorch_model.bin"), "PK");
  const hub = await startHub({
    "graft-test/tiny-bert": repoFromDir(tinyBert, COMMIT),
    "graft-test/pickle-only": repoFromDir(noWeights, COMMIT),
    "graft-test/private": repoFromDir(tinyBert, COMMIT, "s3cret"),
  });
  const cacheDir = tmpDir();
  const o = { endpoint: hub.url, cacheDir, token: false as const };
  try {
    assert.equal(await hubFile("graft-test/tiny-bert", "merges.txt", o), null);
    assert.ok(existsSync(join(cacheDir, "models--graft-test--tiny-bert", ".no_exist", COMMIT, "merges.txt")));
    await assert.rejects(
      downloadModel("graft-test/pickle-only", o),
      (e: Error) => e instanceof FormatError && /no model\.safetensors .* \(only pytorch_model\.bin/.test(e.message),
    );
    await assert.rejects(
      downloadModel("graft-test/nope", o),
      (e: Error) =>
        e instanceof GraftError &&
        /HTTP 401, RepoNotFound/.test(e.message) &&
        /HF_TOKEN/.test((e as GraftError).hint ?? ""),
    );
    await assert.rejects(downloadModel("graft-test/private", o), /HTTP 401/);
    await assert.rejects(
      downloadModel("graft-test/tiny-bert", { ...o, revision: "v9" }),
      /revision "v9" does not exist/,
    );

    const dir = await downloadModel("graft-test/private", { ...o, token: "s3cret", want: ["config"] });
    assert.deepEqual(readdirSync(dir), ["config.json"]);
    assert.ok(hub.requests.filter((r) => r.path.includes("/private/")).some((r) => r.auth === "Bearer s3cret"));
  } finally {
    await hub.close();
  }
});

test("HF_ENDPOINT and HF_TOKEN are honoured; a sharded checkpoint brings its shards; commits work as revisions", async () => {
  const sharded = tmpDir();
  const rng = new Rng(5);
  const w = { "a.weight": randn([30, 30], rng), "b.weight": randn([30, 30], rng), "c.bias": randn([30], rng) };
  saveCheckpoint(sharded, w, { maxShardBytes: 4000 });
  writeFileSync(join(sharded, "config.json"), readFileSync(join(tinyBert, "config.json")));
  const hub = await startHub({ "graft-test/sharded": { ...repoFromDir(sharded, COMMIT), token: "tok" } });
  const cacheDir = tmpDir();
  const saved = { endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN };
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_TOKEN = "tok";
  try {
    const dir = await downloadModel("graft-test/sharded", { cacheDir, want: ["config", "weights"], revision: COMMIT });
    assert.deepEqual(readdirSync(dir).sort(), [
      "config.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
    const back = loadCheckpoint(dir);
    assert.deepEqual(back.get("b.weight")!.toArray(), w["b.weight"].toArray());
    assert.ok(
      hub.requests.every(
        (r) => r.path.startsWith("/cdn/") || r.path.startsWith(`/graft-test/sharded/resolve/${COMMIT}/`),
      ),
    );
  } finally {
    for (const [k, v] of [
      ["HF_ENDPOINT", saved.endpoint],
      ["HF_TOKEN", saved.token],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await hub.close();
  }
});

test("resolveModelDir returns a local directory as is and refuses a path that does not exist", async () => {
  const d = tmpDir();
  mkdirSync(join(d, "m"));
  assert.equal(await resolveModelDir(join(d, "m")), join(d, "m"));
  await assert.rejects(resolveModelDir(join(d, "missing")), /no such directory/);
  await assert.rejects(resolveModelDir("./nope/model"), /no such directory/);
  await assert.rejects(resolveModelDir("bad id!", { offline: true }), /is not a model id/);
});
