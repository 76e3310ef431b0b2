/** Paths of committed fixtures (test/fixtures/data), found from the compiled test's location. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = join(ROOT, "test/fixtures/data");
export const fixture = (name: string): string => join(FIXTURES, name);
