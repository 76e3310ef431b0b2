/** Planted interactions, as graft reads an ML-100k u.data file, for the recommender tests (recommend/, serve/). */
import type { Interactions } from "../../src/recsys/index.js";
import type { Rng } from "../../src/util/rng.js";

export interface PlantedShape {
  groups: number;
  /** Users per group. */
  users: number;
  /** Items per group. */
  items: number;
  /** Items each user interacts with, all of its own group. */
  perUser: number;
}

/**
 * groups × users users ("u0", …) and groups × items items ("i0", …): user a of group g interacts with `perUser`
 * items of group g, the first of a permutation drawn from `rng` (one per user, in order), all rated 5, at times
 * 0, 1, … in file order. Rows draw nothing else from `rng`, so a test may go on drawing from it.
 */
export function plantedInteractions(rng: Rng, { groups, users, items, perUser }: PlantedShape): Interactions {
  const rows: [number, number][] = [];
  for (let g = 0; g < groups; g++)
    for (let a = 0; a < users; a++) {
      const perm = rng.permutation(items);
      for (let b = 0; b < perUser; b++) rows.push([g * users + a, g * items + perm[b]!]);
    }
  return {
    file: "mem",
    users: Array.from({ length: groups * users }, (_, u) => `u${u}`),
    items: Array.from({ length: groups * items }, (_, i) => `i${i}`),
    user: Int32Array.from(rows, (r) => r[0]),
    item: Int32Array.from(rows, (r) => r[1]),
    rating: new Float32Array(rows.length).fill(5),
    time: Float64Array.from(rows, (_, k) => k),
    line: Int32Array.from(rows, (_, k) => k + 1),
    duplicates: 0,
  };
}
