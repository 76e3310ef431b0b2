/**
 * Data parallelism across two "hosts": two network namespaces joined by a veth pair (addresses inside the
 * namespaces only), mpirun in the first with a hostfile naming both, an rsh agent that enters the other namespace
 * instead of ssh, and TCP as the only transport. The gradients and the trained weights equal one process's, as on
 * one host. Needs root and iproute2's `ip`; skips otherwise; removes its namespaces whatever happens. The procedure
 * is docs/distributed.md's multi-host check.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasMpirun, loadMpi, mpiUnavailable, mpirunArgs, mpirunEnv } from "../../src/train/index.js";
import { MPI_ARGS } from "./mpi-args.js";
import { assertClose, referenceGrads, referenceWeights } from "./mpi-toy.js";

const worker = join(dirname(fileURLToPath(import.meta.url)), "mpi-worker.js");
const ip = (args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

const skip = !hasMpirun()
  ? "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"
  : !loadMpi()
    ? mpiUnavailable()
    : !isRoot
      ? "network namespaces need root"
      : ip(["-V"]).status !== 0
        ? "iproute2's ip is not installed"
        : process.env.GRAFT_BACKEND === "js"
          ? "a multi-host MPI run exercises no backend-specific code: the native pass runs it"
          : false;

test("2 ranks on two network namespaces over TCP: one process's gradients and weights", { skip }, async () => {
  const tag = String(process.pid % 100000);
  const nsA = `graft-${tag}-a`;
  const nsB = `graft-${tag}-b`;
  const dir = mkdtempSync(join(tmpdir(), "graft-netns-"));
  try {
    const must = (args: string[]) => {
      const r = ip(args);
      assert.equal(r.status, 0, `ip ${args.join(" ")}: ${r.stderr}`);
    };
    must(["netns", "add", nsA]);
    must(["netns", "add", nsB]);
    must(["link", "add", `gv${tag}a`, "type", "veth", "peer", "name", `gv${tag}b`]);
    must(["link", "set", `gv${tag}a`, "netns", nsA]);
    must(["link", "set", `gv${tag}b`, "netns", nsB]);
    must(["-n", nsA, "addr", "add", "10.77.0.1/24", "dev", `gv${tag}a`]);
    must(["-n", nsB, "addr", "add", "10.77.0.2/24", "dev", `gv${tag}b`]);
    for (const [ns, dev] of [
      [nsA, `gv${tag}a`],
      [nsB, `gv${tag}b`],
    ]) {
      must(["-n", ns, "link", "set", "lo", "up"]);
      must(["-n", ns, "link", "set", dev, "up"]);
    }
    // the rsh agent: `agent HOST COMMAND...` runs COMMAND in HOST's namespace, as ssh would on HOST
    const agent = join(dir, "agent.sh");
    writeFileSync(
      agent,
      `#!/bin/sh\nhost=$1; shift\ncase "$host" in\n  10.77.0.1) ns=${nsA} ;;\n  10.77.0.2) ns=${nsB} ;;\n  *) echo "agent: unknown host $host" >&2; exit 1 ;;\nesac\nexec ip netns exec "$ns" sh -c "$*"\n`,
    );
    chmodSync(agent, 0o755);
    const hostfile = join(dir, "hosts.txt");
    writeFileSync(hostfile, "10.77.0.1 slots=1\n10.77.0.2 slots=1\n");
    const mca = [
      ["plm_rsh_agent", agent],
      ["btl", "tcp,self"],
      ["btl_tcp_if_include", "10.77.0.0/24"],
      ["oob_tcp_if_include", "10.77.0.0/24"],
    ].flatMap(([k, v]) => ["--mca", k, v]);
    const env = mpirunEnv({ ...process.env, GRAFT_THREADS: "1", GRAFT_MPI_TIMEOUT: "20" });
    const forward = ["OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"].flatMap((k) => ["-x", k]);
    const mpirun = (args: string[]) => {
      const r = spawnSync(
        "ip",
        [
          "netns",
          "exec",
          nsA,
          "mpirun",
          ...mpirunArgs({ np: 2, hostfile, extra: [...mca, ...forward] }, [process.execPath, worker, ...args]),
        ],
        { env, encoding: "utf8", timeout: 60_000 },
      );
      assert.equal(r.status, 0, `mpirun across namespaces failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    };

    mpirun(["grads", join(dir, "g.json")]);
    const nets = [0, 1].map((r) => readFileSync(join(dir, `g.json.rank${r}`), "utf8"));
    assert.notEqual(nets[0], nets[1], `the ranks ran in different network namespaces (${nets.join(", ")})`);
    const got = JSON.parse(readFileSync(join(dir, "g.json"), "utf8")) as { grads: Record<string, number[] | null>[] };
    const want = referenceGrads();
    got.grads.forEach((g, k) => assertClose(g, want[k], 1e-5, `step ${k + 1}`));

    mpirun(["train", join(dir, "run"), join(dir, "w.json")]);
    const trained = JSON.parse(readFileSync(join(dir, "w.json"), "utf8"));
    assert.equal(trained.step, MPI_ARGS.maxSteps);
    assertClose(trained.weights, await referenceWeights(), 2e-5, "weights");
  } finally {
    ip(["netns", "del", nsA]);
    ip(["netns", "del", nsB]);
    rmSync(dir, { recursive: true, force: true });
  }
});
