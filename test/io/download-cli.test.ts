import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { startHub, repoFromDir } from "./hub-server.js";
import { ROOT, fixture, tmpDir } from "./helpers.js";

const downloadJs = pathToFileURL(join(ROOT, "dist", "src", "cli", "download.js")).href;
const commanderJs = pathToFileURL(createRequire(import.meta.url).resolve("commander")).href;

/** Runs `graft download ...` (just that command, registered the way main.ts does) in a child process. */
function graft(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const script = `
    const { Command } = await import(${JSON.stringify(commanderJs)});
    const { register } = await import(${JSON.stringify(downloadJs)});
    const program = new Command().exitOverride();
    register(program);
    try { await program.parseAsync(process.argv.slice(1), { from: "user" }); }
    catch (e) { process.stderr.write("error: " + e.message + "\\n"); process.exitCode = 1; }`;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script, "--", ...args], (e, out, err) =>
      resolve({ out, err, code: e ? (e.code as number) : 0 }),
    );
  });
}

test("graft download fetches into the cache, prints the directory, then works offline", async () => {
  const commit = "89abcdef0123456789abcdef0123456789abcdef";
  const hub = await startHub({ "graft-test/tiny-bert": repoFromDir(fixture("io", "hub", "tiny-bert"), commit) });
  const cache = tmpDir();
  try {
    const r = await graft([
      "download",
      "graft-test/tiny-bert",
      "--endpoint",
      hub.url,
      "--cache-dir",
      cache,
      "--only",
      "config,weights",
    ]);
    assert.equal(r.code, 0, r.err);
    const dir = join(cache, "models--graft-test--tiny-bert", "snapshots", commit);
    assert.equal(r.out, `${dir}\n`);
    assert.match(r.err, /^config\.json: 325 B downloaded\nmodel\.safetensors: [\d.]+ kB downloaded\n$/);
    assert.ok(existsSync(join(dir, "model.safetensors")));
    assert.equal(existsSync(join(dir, "tokenizer.json")), false);
    const off = await graft([
      "download",
      "graft-test/tiny-bert",
      "--cache-dir",
      cache,
      "--only",
      "config,weights",
      "--offline",
      "--json",
    ]);
    assert.deepEqual(JSON.parse(off.out), { model: "graft-test/tiny-bert", revision: "main", dir });
    const bad = await graft(["download", "graft-test/tiny-bert", "--only", "weights,vocab", "--cache-dir", cache]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--only: "vocab" is not one of config, weights, tokenizer/);
  } finally {
    await hub.close();
  }
});
