/**
 * What ships with graft so the quick start needs no download: the pre-trained base model (models/graft-base,
 * made with `graft pretrain`) and a sample of an openly licensed text-classification dataset (data/sms-spam).
 */
import { join } from "node:path";
import { packageRoot } from "../util/package-root.js";

export { packageRoot };

export const bundled = {
  model: () => join(packageRoot(), "models", "graft-base"),
  train: () => join(packageRoot(), "data", "sms-spam", "train.tsv"),
  test: () => join(packageRoot(), "data", "sms-spam", "test.tsv"),
};
