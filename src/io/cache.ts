/**
 * The model cache on disk, laid out as huggingface_hub lays out its own, so the two are easy to compare:
 *   models--{org}--{name}/blobs/{etag}                       file contents, named by their ETag
 *   models--{org}--{name}/snapshots/{commit}/{file}          link to the blob (a copy where links fail)
 *   models--{org}--{name}/refs/{revision}                    the commit a branch or tag pointed to
 *   models--{org}--{name}/.no_exist/{commit}/{file}          a file the hub said does not exist
 * A partial download sits in blobs/{etag}.incomplete and is resumed; blobs/{etag}.lock keeps two processes
 * from downloading the same blob at once.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
  lstatSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { ArgumentError, GraftError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic.js";

/** `org/name` (or a legacy single name): letters, digits, `-`, `_`, `.`; never `..`. */
const REPO_RE = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)?[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const FILE_PART_RE = /^[A-Za-z0-9_.\-+=@ ]+$/;

export function checkRepoId(repo: string): void {
  if (!REPO_RE.test(repo) || repo.includes("..") || repo.length > 200) {
    throw new ArgumentError(
      `"${repo}" is not a model id (org/name) nor an existing directory`,
      "a hub id looks like bert-base-uncased or openai-community/gpt2",
    );
  }
}

/** A file path inside a repo: relative, `/`-separated, no `.` or `..` parts. */
export function checkRepoFile(file: string): void {
  const parts = file.split("/");
  if (
    file === "" ||
    file.length > 500 ||
    parts.some((p) => p === "" || p === "." || p === ".." || !FILE_PART_RE.test(p))
  ) {
    throw new ArgumentError(`"${file}" is not a file path inside a repository`);
  }
}

export function checkRevision(rev: string): void {
  if (
    rev === "" ||
    rev.length > 200 ||
    rev.split("/").some((p) => p === "" || p === "." || p === "..") ||
    !/^[A-Za-z0-9_.\-/]+$/.test(rev)
  ) {
    throw new ArgumentError(`"${rev}" is not a revision (branch, tag or commit)`);
  }
}

export class RepoCache {
  readonly root: string;

  constructor(
    cacheRoot: string,
    readonly repo: string,
  ) {
    checkRepoId(repo);
    this.root = join(cacheRoot, `models--${repo.replace("/", "--")}`);
  }

  blobPath(etag: string): string {
    return join(this.root, "blobs", etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, "snapshots", commit);
  }

  /** The commit a revision resolved to when last online (a commit hash resolves to itself). */
  commitOf(revision: string): string | null {
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    const ref = join(this.root, "refs", revision);
    if (!existsSync(ref)) return null;
    const commit = readFileSync(ref, "utf8").trim();
    return commit === "" ? null : commit;
  }

  setRef(revision: string, commit: string): void {
    if (/^[0-9a-f]{40}$/.test(revision)) return; // a commit names itself
    const ref = join(this.root, "refs", revision);
    if (existsSync(ref) && readFileSync(ref, "utf8").trim() === commit) return;
    writeFileAtomic(ref, commit);
  }

  /** The cached path of a file at a commit, "missing" if the hub said it does not exist, null if unknown. */
  lookup(commit: string, file: string): string | "missing" | null {
    const p = join(this.snapshotDir(commit), file);
    if (existsSync(p)) return p;
    if (existsSync(join(this.root, ".no_exist", commit, file))) return "missing";
    return null;
  }

  markMissing(commit: string, file: string): void {
    const p = join(this.root, ".no_exist", commit, file);
    mkdirSync(dirname(p), { recursive: true });
    closeSync(openSync(p, "w"));
  }

  /** Points snapshots/{commit}/{file} at a blob: a relative symlink, or a copy where links are not allowed. */
  link(commit: string, file: string, etag: string): string {
    const target = join(this.snapshotDir(commit), file);
    const blob = this.blobPath(etag);
    mkdirSync(dirname(target), { recursive: true });
    if (isPresent(target)) rmSync(target, { force: true });
    rmSync(join(this.root, ".no_exist", commit, file), { force: true });
    try {
      symlinkSync(relative(dirname(target), blob), target);
    } catch {
      copyFileSync(blob, target);
    }
    return target;
  }

  /** Takes the download lock of a blob, waiting while another live process holds it. Returns the release function. */
  async lock(etag: string, timeoutMs = 10 * 60_000): Promise<() => void> {
    const path = `${this.blobPath(etag)}.lock`;
    mkdirSync(dirname(path), { recursive: true });
    const start = Date.now();
    for (;;) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (!holderAlive(path)) {
        rmSync(path, { force: true }); // left behind by a process that died
        continue;
      }
      if (Date.now() - start > timeoutMs)
        throw new GraftError(
          `${path}: another process has been downloading this file for over ${timeoutMs / 1000} s`,
          "remove the .lock file if no graft process is running",
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function isPresent(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function holderAlive(lockPath: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lockPath, "utf8"));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    // written but not yet filled in by its holder, or garbage: trust it only while fresh
    try {
      return Date.now() - statSync(lockPath).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
