/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, speaking its layout: `/{repo}/resolve/{revision}/{file}`
 * with X-Repo-Commit, ETag (git blob sha1) for small files, and for "LFS" files a 302 to a CDN path carrying
 * X-Linked-Etag (sha256) and X-Linked-Size. It honours Range requests, answers 404/401 with X-Error-Code the
 * way the hub does, and can drop a connection part-way through a file.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";

export interface FakeRepo {
  files: Map<string, Uint8Array>;
  commit: string;
  /** Files served through the CDN redirect, as the hub serves LFS files. */
  lfs?: (file: string) => boolean;
  /** Token required to see the repo. */
  token?: string;
}

export interface Fault {
  file: string;
  /** Bytes sent before the connection is cut. */
  after: number;
  /** How many requests get cut (default 1). */
  times?: number;
}

export interface RequestLog {
  method: string;
  path: string;
  range: string | undefined;
  auth: string | undefined;
}

export interface FakeHub {
  url: string;
  requests: RequestLog[];
  faults: Fault[];
  /** Serve these bytes instead of the real content (but with the real ETag/size): a corrupted transfer. */
  corrupt: Map<string, Uint8Array>;
  close(): Promise<void>;
}

export function repoFromDir(dir: string, commit: string, token?: string): FakeRepo {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir))
    if (statSync(join(dir, name)).isFile()) files.set(name, readFileSync(join(dir, name)));
  return { files, commit, lfs: (f) => f.endsWith(".safetensors"), ...(token ? { token } : {}) };
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Uint8Array) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

export async function startHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const requests: RequestLog[] = [];
  const faults: Fault[] = [];
  const corrupt = new Map<string, Uint8Array>();
  const blobs = new Map<string, { data: Uint8Array; file: string }>();
  for (const repo of Object.values(repos))
    for (const [file, data] of repo.files) blobs.set(sha256(data), { data, file });

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    data: Uint8Array,
    file: string,
    headers: Record<string, string>,
  ) => {
    const body = corrupt.get(file) ?? data;
    let start = 0;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d+)-$/.exec(range);
      if (!m || Number(m[1]) >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      start = Number(m[1]);
    }
    const rest = body.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      "content-length": String(rest.length),
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.method === "HEAD") return void res.end();
    const fault = faults.find((f) => f.file === file && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      const cut = Math.max(0, fault.after - start);
      res.write(rest.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    res.end(rest);
  };

  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    requests.push({ method: req.method ?? "", path, range: req.headers.range, auth: req.headers.authorization });
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn) {
      const blob = blobs.get(cdn[1]!);
      if (!blob) return void res.writeHead(404).end();
      return send(req, res, blob.data, blob.file, { etag: `"${cdn[1]}"` });
    }
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = m ? repos[m[1]!] : undefined;
    if (!m || !repo || (repo.token && req.headers.authorization !== `Bearer ${repo.token}`)) {
      return void res
        .writeHead(401, { "x-error-code": "RepoNotFound", "content-type": "text/plain" })
        .end("Repository not found");
    }
    const [, , rev, file] = m as unknown as [string, string, string, string];
    if (rev !== "main" && rev !== repo.commit)
      return void res.writeHead(404, { "x-error-code": "RevisionNotFound" }).end();
    const data = repo.files.get(file);
    if (!data)
      return void res
        .writeHead(404, { "x-error-code": "EntryNotFound", "x-repo-commit": repo.commit })
        .end("Entry not found");
    if (repo.lfs?.(file)) {
      const hash = sha256(data);
      const port = (server.address() as AddressInfo).port;
      return void res
        .writeHead(302, {
          location: `http://127.0.0.1:${port}/cdn/${hash}`,
          "x-repo-commit": repo.commit,
          "x-linked-etag": `"${hash}"`,
          "x-linked-size": String(data.length),
          etag: `"${gitSha1(data)}"`,
        })
        .end();
    }
    send(req, res, data, file, { etag: `"${gitSha1(data)}"`, "x-repo-commit": repo.commit });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    corrupt,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
