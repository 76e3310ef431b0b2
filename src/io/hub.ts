/**
 * Downloads from the Hugging Face hub layout `{endpoint}/{repo}/resolve/{revision}/{file}` into the cache.
 * A HEAD request learns the file's commit, ETag and size (from X-Repo-Commit, X-Linked-Etag/ETag,
 * X-Linked-Size/Content-Length, before any redirect to a CDN); the body is streamed into
 * blobs/{etag}.incomplete and resumed with a Range request after a dropped connection; the result is checked
 * against the size and, where the ETag is a content hash (sha256 for LFS files, git's blob sha1 otherwise),
 * against the hash. Files already in the cache are reused, and used without any request when offline or
 * when the hub cannot be reached.
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  openSync,
  closeSync,
  writeSync,
  statSync,
  renameSync,
  rmSync,
  ftruncateSync,
  readFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { cacheDir } from "../util/env.js";
import { GraftError, FormatError, ArgumentError } from "../util/errors.js";
import { RepoCache, checkRepoFile, checkRevision, checkRepoId } from "./cache.js";
import { WEIGHTS_NAME, WEIGHTS_INDEX_NAME, readShardIndex } from "./checkpoint.js";
import { CONFIG_NAME } from "./config.js";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

export interface Progress {
  file: string;
  received: number;
  total: number;
  /** "cached": no transfer needed; "download"/"resume": bytes arriving; "done": verified and in place. */
  phase: "cached" | "download" | "resume" | "done";
}

export interface HubOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** Access token; default HF_TOKEN, HUGGING_FACE_HUB_TOKEN, or the token file huggingface-cli login wrote. false: none. */
  token?: string | false;
  /** Hub URL; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Cache root; default GRAFT_CACHE or ~/.cache/graft. */
  cacheDir?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE or GRAFT_OFFLINE set to 1/true). */
  offline?: boolean;
  /** Attempts per file after a network failure (default 5), resuming where the last one stopped. */
  retries?: number;
  /** Abort a request when no byte arrives for this long (default 30 s). */
  idleTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
}

interface Resolved {
  endpoint: string;
  revision: string;
  token: string | null;
  offline: boolean;
  retries: number;
  idleTimeoutMs: number;
  cacheRoot: string;
  onProgress: (p: Progress) => void;
}

function envFlag(name: string): boolean {
  return /^(1|true|yes|on)$/i.test((process.env[name] ?? "").trim());
}

function defaultToken(): string | null {
  const env = process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN;
  if (env && env.trim() !== "") return env.trim();
  const hfHome = process.env.HF_HOME ?? join(homedir(), ".cache", "huggingface");
  const file = process.env.HF_TOKEN_PATH ?? join(hfHome, "token");
  try {
    const t = readFileSync(file, "utf8").trim();
    return t === "" ? null : t;
  } catch {
    return null;
  }
}

function resolveOptions(opts: HubOptions): Resolved {
  const revision = opts.revision ?? "main";
  checkRevision(revision);
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  if (!/^https?:\/\//.test(endpoint)) throw new ArgumentError(`hub endpoint must be an http(s) URL, got "${endpoint}"`);
  const retries = opts.retries ?? 5;
  if (!Number.isInteger(retries) || retries < 0)
    throw new ArgumentError(`retries must be a non-negative integer, got ${retries}`);
  return {
    endpoint,
    revision,
    token: opts.token === false ? null : (opts.token ?? defaultToken()),
    offline: opts.offline ?? (envFlag("HF_HUB_OFFLINE") || envFlag("GRAFT_OFFLINE")),
    retries,
    idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
    cacheRoot: opts.cacheDir ?? cacheDir(),
    onProgress: opts.onProgress ?? (() => {}),
  };
}

/** Why the hub could not be asked (as opposed to an answer we did not like). */
class Unreachable extends Error {}

function fileUrl(o: Resolved, repo: string, file: string): string {
  const rev = encodeURIComponent(o.revision);
  return `${o.endpoint}/${repo}/resolve/${rev}/${file.split("/").map(encodeURIComponent).join("/")}`;
}

function headers(o: Resolved, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { "user-agent": "graft (+https://github.com/huggingface/hub-docs)", ...extra };
  if (o.token) h.authorization = `Bearer ${o.token}`;
  return h;
}

/** Strips W/ and quotes from an ETag header. */
function cleanEtag(v: string | null): string | null {
  if (!v) return null;
  const e = v.replace(/^W\//, "").replace(/^"|"$/g, "").trim();
  return /^[A-Za-z0-9_.-]+$/.test(e) && e.length <= 128 ? e : null;
}

interface Head {
  commit: string;
  etag: string | null;
  size: number | null;
  /** The hub answered that the file does not exist (at `commit`). */
  missing: boolean;
}

function describeStatus(status: number, repo: string, file: string, code: string | null, o: Resolved): GraftError {
  if (status === 401 || status === 403 || code === "RepoNotFound" || code === "GatedRepo") {
    return new GraftError(
      `${repo}: the hub refused ${file} (HTTP ${status}${code ? `, ${code}` : ""})`,
      o.token
        ? "the token has no access to this repository, or the repository does not exist"
        : "the repository does not exist, or it is private/gated: set HF_TOKEN to a token with access",
    );
  }
  if (code === "RevisionNotFound") return new GraftError(`${repo}: revision "${o.revision}" does not exist`);
  return new GraftError(`${repo}: HTTP ${status} for ${file} from ${o.endpoint}`);
}

/** HEAD without following the redirect, so the hub's own headers (not the CDN's) are read. */
async function head(o: Resolved, repo: string, file: string): Promise<Head> {
  let url = fileUrl(o, repo, file);
  for (let hop = 0; hop < 5; hop++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "HEAD",
        redirect: "manual",
        headers: headers(o),
        signal: AbortSignal.timeout(o.idleTimeoutMs),
      });
    } catch (e) {
      throw new Unreachable(
        `${url}: ${(e as Error).cause ? String((e as Error & { cause: unknown }).cause) : (e as Error).message}`,
      );
    }
    const code = res.headers.get("x-error-code");
    const header = res.headers.get("x-repo-commit");
    const commit = header && /^[0-9a-f]{40}$/.test(header) ? header : o.revision;
    if (res.status === 404 && (code === null || code === "EntryNotFound"))
      return { commit, etag: null, size: null, missing: true };
    const linkedEtag = cleanEtag(res.headers.get("x-linked-etag"));
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get("location");
      // A relative redirect is the hub itself (renamed repo): ask again there. An absolute one is the CDN
      // holding an LFS file, and the hub's headers on this response already describe it.
      if (location && !/^https?:\/\//.test(location)) {
        url = new URL(location, url).toString();
        continue;
      }
      if (!linkedEtag && !res.headers.get("etag"))
        throw new GraftError(`${repo}: the hub redirected ${file} without an ETag`);
    } else if (!res.ok) {
      throw describeStatus(res.status, repo, file, code, o);
    }
    const sizeHeader = res.headers.get("x-linked-size") ?? res.headers.get("content-length");
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : null;
    return { commit, etag: linkedEtag ?? cleanEtag(res.headers.get("etag")), size, missing: false };
  }
  throw new GraftError(`${repo}: too many redirects for ${file}`);
}

/** Streams the file into `part`, resuming from its current size. Returns when the whole body is written. */
async function fetchInto(
  o: Resolved,
  repo: string,
  file: string,
  part: string,
  expected: number | null,
): Promise<void> {
  let have = existsSync(part) ? statSync(part).size : 0;
  if (expected !== null && have > expected) have = 0;
  const controller = new AbortController();
  let idle = setTimeout(() => controller.abort(), o.idleTimeoutMs);
  const poke = () => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(), o.idleTimeoutMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(fileUrl(o, repo, file), {
        headers: headers(o, have > 0 ? { range: `bytes=${have}-` } : {}),
        redirect: "follow",
        signal: controller.signal,
      });
    } catch (e) {
      throw new Unreachable(`${file}: ${(e as Error).message}`);
    }
    if (res.status === 416) {
      // our partial file does not fit what the server has: start over
      rmSync(part, { force: true });
      throw new Unreachable(`${file}: server refused the resume range; restarting`);
    }
    if (!res.ok) throw describeStatus(res.status, repo, file, res.headers.get("x-error-code"), o);
    const resumed = res.status === 206;
    if (resumed) {
      const range = res.headers.get("content-range");
      const m = range ? /^bytes (\d+)-/.exec(range) : null;
      if (!m || Number(m[1]) !== have) {
        rmSync(part, { force: true });
        throw new Unreachable(`${file}: server resumed at the wrong place (${range}); restarting`);
      }
    } else have = 0;
    const total = expected ?? (resumed ? null : Number(res.headers.get("content-length") ?? NaN));
    const fd = openSync(part, resumed ? "a" : "w");
    try {
      if (!resumed) ftruncateSync(fd, 0);
      o.onProgress({ file, received: have, total: total ?? NaN, phase: resumed ? "resume" : "download" });
      if (!res.body) throw new Unreachable(`${file}: empty response`);
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          poke();
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          have += chunk.length;
          if (expected !== null && have > expected)
            throw new FormatError(`${repo}/${file}: server sent more than the ${expected} bytes announced`);
          o.onProgress({ file, received: have, total: total ?? NaN, phase: resumed ? "resume" : "download" });
        }
      } catch (e) {
        if (e instanceof GraftError) throw e;
        throw new Unreachable(`${file}: connection lost after ${have} bytes (${(e as Error).message})`);
      }
    } finally {
      closeSync(fd);
    }
    if (expected !== null && have < expected)
      throw new Unreachable(`${file}: connection closed after ${have} of ${expected} bytes`);
  } finally {
    clearTimeout(idle);
  }
}

async function hashFile(path: string, algo: "sha256" | "sha1", gitBlob: boolean): Promise<string> {
  const h = createHash(algo);
  if (gitBlob) h.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Checks a finished download against its announced size and, when the ETag is a content hash, its hash. */
async function verify(path: string, h: Head, where: string): Promise<void> {
  const size = statSync(path).size;
  if (h.size !== null && size !== h.size)
    throw new FormatError(`${where}: downloaded ${size} bytes, the hub announced ${h.size}`);
  if (!h.etag) return;
  if (/^[0-9a-f]{64}$/.test(h.etag)) {
    const got = await hashFile(path, "sha256", false);
    if (got !== h.etag)
      throw new FormatError(
        `${where}: sha256 ${got} does not match the hub's ${h.etag}`,
        "the download was corrupted; run the command again",
      );
  } else if (/^[0-9a-f]{40}$/.test(h.etag)) {
    const got = await hashFile(path, "sha1", true);
    if (got !== h.etag)
      throw new FormatError(
        `${where}: git blob sha1 ${got} does not match the hub's ${h.etag}`,
        "the download was corrupted; run the command again",
      );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One file of a hub repo, from the cache or downloaded into it. Returns its local path, or null when the
 * repo has no such file.
 */
export async function hubFile(repo: string, file: string, opts: HubOptions = {}): Promise<string | null> {
  checkRepoId(repo);
  checkRepoFile(file);
  const o = resolveOptions(opts);
  return fetchFile(o, new RepoCache(o.cacheRoot, repo), file);
}

async function fetchFile(o: Resolved, cache: RepoCache, file: string): Promise<string | null> {
  const repo = cache.repo;
  const fromCache = (why: string): string | null => {
    const commit = cache.commitOf(o.revision);
    const hit = commit ? cache.lookup(commit, file) : null;
    if (hit === "missing") return null;
    if (hit) {
      o.onProgress({ file, received: 0, total: 0, phase: "cached" });
      return hit;
    }
    throw new GraftError(
      `${repo}: ${file} at revision "${o.revision}" is not in the cache (${cache.root}) and ${why}`,
      o.offline
        ? "connect to the network and unset HF_HUB_OFFLINE / GRAFT_OFFLINE, or copy the model directory here"
        : "check the network, or HF_ENDPOINT",
    );
  };
  if (o.offline) return fromCache("graft is offline");

  let h: Head;
  try {
    h = await head(o, repo, file);
  } catch (e) {
    if (e instanceof Unreachable) return fromCache(`the hub cannot be reached (${e.message})`);
    throw e;
  }
  cache.setRef(o.revision, h.commit);
  if (h.missing) {
    cache.markMissing(h.commit, file);
    return null;
  }
  const etag = h.etag ?? `noetag-${createHash("sha256").update(`${h.commit}/${file}`).digest("hex").slice(0, 32)}`;
  const blob = cache.blobPath(etag);
  const ready = () => existsSync(blob) && (h.size === null || statSync(blob).size === h.size);
  if (ready()) {
    o.onProgress({ file, received: h.size ?? 0, total: h.size ?? 0, phase: "cached" });
    return cache.link(h.commit, file, etag);
  }
  const release = await cache.lock(etag);
  try {
    if (!ready()) {
      const part = `${blob}.incomplete`;
      for (let attempt = 0; ; attempt++) {
        try {
          await fetchInto(o, repo, file, part, h.size);
          break;
        } catch (e) {
          if (!(e instanceof Unreachable) || attempt >= o.retries) {
            if (e instanceof Unreachable)
              throw new GraftError(
                `${repo}: downloading ${file} failed after ${attempt + 1} attempts: ${e.message}`,
                "run the command again: the download resumes where it stopped",
              );
            throw e;
          }
          await sleep(Math.min(200 * 2 ** attempt, 5000));
        }
      }
      try {
        await verify(part, h, `${repo}/${file}`);
      } catch (e) {
        rmSync(part, { force: true });
        throw e;
      }
      renameSync(part, blob);
    }
  } finally {
    release();
  }
  o.onProgress({ file, received: h.size ?? statSync(blob).size, total: h.size ?? statSync(blob).size, phase: "done" });
  return cache.link(h.commit, file, etag);
}

// ---- whole model directories

export type FileGroup = "config" | "weights" | "tokenizer";

export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
];
/** Needed only when a repo has no tokenizer.json (slow-tokenizer vocabularies). */
export const VOCAB_FILES = ["vocab.txt", "vocab.json", "merges.txt"];

export interface ResolveOptions extends HubOptions {
  /** Which parts of a hub model to fetch (default all). A local directory is returned as is. */
  want?: readonly FileGroup[];
}

/** Downloads what a model needs (config, weights incl. shards, tokenizer files) and returns the snapshot directory. */
export async function downloadModel(repo: string, opts: ResolveOptions = {}): Promise<string> {
  checkRepoId(repo);
  const o = resolveOptions(opts);
  const cache = new RepoCache(o.cacheRoot, repo);
  const want = new Set(opts.want ?? ["config", "weights", "tokenizer"]);
  const get = (file: string) => fetchFile(o, cache, file);

  if (want.has("config") && (await get(CONFIG_NAME)) === null) {
    throw new FormatError(
      `${repo}: the repository has no ${CONFIG_NAME}`,
      "is it a model repository? graft needs config.json to know the architecture",
    );
  }
  // optional: generate()'s defaults, which transformers keeps beside config.json (a cache from before may lack it)
  if (want.has("config")) await get("generation_config.json").catch(() => null);
  if (want.has("weights")) {
    const single = await get(WEIGHTS_NAME);
    if (single === null) {
      const index = await get(WEIGHTS_INDEX_NAME);
      if (index === null) {
        const pickle = await fetchFileExists(o, cache, "pytorch_model.bin");
        throw new FormatError(
          `${repo}: no ${WEIGHTS_NAME} or ${WEIGHTS_INDEX_NAME} at revision "${o.revision}"${pickle ? " (only pytorch_model.bin, a PyTorch pickle graft does not load)" : ""}`,
          pickle
            ? `try the automatic conversion some repos have: --revision refs/pr/1, or convert it with transformers' save_pretrained(..., safe_serialization=True)`
            : undefined,
        );
      }
      const shards = [...new Set(Object.values(readShardIndex(index).weight_map))];
      for (const shard of shards) {
        if ((await get(shard)) === null)
          throw new FormatError(`${repo}: shard ${shard} listed in ${WEIGHTS_INDEX_NAME} does not exist`);
      }
    }
  }
  if (want.has("tokenizer")) {
    // config.json tells which tokenizer class applies when tokenizer_config.json does not; optional here
    if (!want.has("config")) await get(CONFIG_NAME);
    for (const f of TOKENIZER_FILES) await get(f);
    if (cacheHas(o, cache, "tokenizer.json") === false) for (const f of VOCAB_FILES) await get(f);
  }
  return cache.snapshotDir(cache.commitOf(o.revision) ?? o.revision);
}

function cacheHas(o: Resolved, cache: RepoCache, file: string): boolean {
  const commit = cache.commitOf(o.revision);
  const hit = commit ? cache.lookup(commit, file) : null;
  return hit !== null && hit !== "missing";
}

async function fetchFileExists(o: Resolved, cache: RepoCache, file: string): Promise<boolean> {
  if (o.offline) return false;
  try {
    return !(await head(o, cache.repo, file)).missing;
  } catch {
    return false;
  }
}

/**
 * A local model directory for `idOrPath`: an existing directory is returned as is (resolved); anything else
 * is taken as a hub id and downloaded into the cache (or found there).
 */
export async function resolveModelDir(idOrPath: string, opts: ResolveOptions = {}): Promise<string> {
  if (existsSync(idOrPath) && statSync(idOrPath).isDirectory()) return resolve(idOrPath);
  if (/^(\.{1,2}|~)?[\\/]/.test(idOrPath) || idOrPath.startsWith(".") || idOrPath.split("/").length > 2) {
    throw new ArgumentError(
      `${idOrPath}: no such directory`,
      "give an existing model directory, or a hub id like org/name",
    );
  }
  return downloadModel(idOrPath, opts);
}
