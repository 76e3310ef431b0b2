#!/usr/bin/env node
// Finds MPI for binding.gyp's optional graft_mpi addon: `found` prints 1 or 0 (and a note on stderr when MPI is
// absent, or GRAFT_NO_MPI=1 skips it), `incdirs`, `libdirs` and `libs` print what mpicc (else pkg-config ompi) reports. Never fails: without
// MPI the addon is skipped and `npm install` goes on.
import { execFileSync } from "node:child_process";

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

function flags() {
  if (process.env.GRAFT_NO_MPI === "1") return null;
  const inc = run("mpicc", ["--showme:incdirs"]);
  const libdirs = run("mpicc", ["--showme:libdirs"]);
  const libs = run("mpicc", ["--showme:libs"]);
  if (inc !== null && libs !== null)
    return { incdirs: inc.split(/\s+/), libdirs: (libdirs ?? "").split(/\s+/), libs: libs.split(/\s+/) };
  const cflags = run("pkg-config", ["--cflags-only-I", "ompi"]);
  const ldflags = run("pkg-config", ["--libs", "ompi"]);
  if (cflags === null || ldflags === null) return null;
  const parts = ldflags.split(/\s+/);
  return {
    incdirs: cflags.split(/\s+/).map((s) => s.replace(/^-I/, "")),
    libdirs: parts.filter((p) => p.startsWith("-L")).map((p) => p.slice(2)),
    libs: parts.filter((p) => p.startsWith("-l")).map((p) => p.slice(2)),
  };
}

const what = process.argv[2];
const f = flags();
if (what === "found") {
  if (!f)
    process.stderr.write(
      `graft: MPI not found (${process.env.GRAFT_NO_MPI === "1" ? "GRAFT_NO_MPI=1" : "no mpicc, no pkg-config ompi"}); skipping the optional graft_mpi addon (data-parallel training). Install libopenmpi-dev and openmpi-bin to build it.\n`,
    );
  process.stdout.write(f ? "1" : "0");
} else if (what === "incdirs") process.stdout.write(f ? f.incdirs.filter(Boolean).join(" ") : "");
else if (what === "libdirs") process.stdout.write(f ? f.libdirs.filter(Boolean).join(" ") : "");
else if (what === "libs")
  process.stdout.write(
    f
      ? f.libs
          .filter(Boolean)
          .map((l) => `-l${l}`)
          .join(" ")
      : "",
  );
else {
  process.stderr.write("usage: mpi-flags.mjs found|incdirs|libdirs|libs\n");
  process.exit(2);
}
