/**
 * One tensor of a safetensors file read as a plain typed array (F32 or I32), from the validated header's byte
 * span, without building a Tensor: what vector collections and index graphs are read with (one Float32Array of
 * 100k × 256 values, not a backend storage).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { DataError } from "../util/errors.js";
import { readSafetensorsHeader } from "./safetensors.js";

export interface RawTensor {
  data: Float32Array | Int32Array;
  shape: number[];
  metadata: Record<string, string>;
}

/** The named tensor (default: the first in the file) as a typed array; only F32 and I32 are read. */
export function readRawTensor(path: string, name?: string): RawTensor {
  const header = readSafetensorsHeader(path);
  const info = name === undefined ? header.tensors[0] : header.tensors.find((t) => t.name === name);
  if (!info)
    throw new DataError(
      name === undefined
        ? "holds no tensor"
        : `no tensor "${name}" (it has ${header.tensors.map((t) => t.name).join(", ") || "none"})`,
      { file: path },
    );
  if (info.dtype !== "F32" && info.dtype !== "I32")
    throw new DataError(`tensor "${info.name}" is ${info.dtype}; only F32 and I32 are read as plain arrays`, {
      file: path,
    });
  const bytes = new Uint8Array(info.end - info.begin);
  const fd = openSync(path, "r");
  try {
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(fd, bytes, done, bytes.length - done, header.dataStart + info.begin + done);
      if (n <= 0) throw new DataError(`the file ends inside tensor "${info.name}"`, { file: path });
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  const data = info.dtype === "F32" ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
  return { data, shape: [...info.shape], metadata: { ...header.metadata } };
}
