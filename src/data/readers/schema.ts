/**
 * The reading options every command that reads a user's labelled file shares (data inspect/split, baseline,
 * predict, eval, finetune): format, delimiter, quoting, header, column mapping, label type and the bad-row policy.
 * Declared once here, below cli/ and tasks/, so each command's schema spreads the same entries.
 */
import { GraftError } from "../../util/errors.js";
import { opt } from "../../util/options.js";
import { DATA_FORMATS, type DataFormat, type ExampleReadOptions } from "./examples.js";
import type { LabelType } from "./fields.js";

/** How a file is parsed: format, delimiter, quote character, header row. */
export function fileFormatSchema(withConll = false) {
  return {
    format: opt.enum(withConll ? [...DATA_FORMATS, "conll"] : DATA_FORMATS, {
      flag: "--format <format>",
      help: "file format",
      defaultHelp: "from the extension, else sniffed",
    }),
    delimiter: opt.string({
      flag: "--delimiter <char>",
      help: 'CSV/TSV field delimiter, e.g. ";" or "\\t"',
      defaultHelp: "sniffed",
    }),
    quote: opt.string({
      flag: "--quote <char>",
      help: 'CSV quote character, or "none"',
      defaultHelp: '" for CSV, none for TSV',
    }),
    header: opt.boolean({ default: true, help: "the CSV/TSV file has no header row; name columns by 0-based index" }),
  };
}

/** Which columns hold the text, the second text of a pair and the label. */
export const COLUMN_SCHEMA = {
  textColumn: opt.string({
    flag: "--text-column <name>",
    help: "column with the text (name or 0-based index)",
    defaultHelp: "text, sentence, ...",
  }),
  textPairColumn: opt.string({
    flag: "--text-pair-column <name>",
    help: "column with the second text of a pair task",
  }),
  labelColumn: opt.string({
    flag: "--label-column <name>",
    help: "column with the label",
    defaultHelp: "label, class, category, ...",
  }),
};

export const LABEL_TYPE_SCHEMA = {
  labelType: opt.enum(["string", "int", "float"], {
    default: "string",
    flag: "--label-type <type>",
    help: "string (class names), int (validated class ids) or float (regression)",
  }),
};

export function badRowSchema(onBadRow: "fail" | "skip" = "fail") {
  return {
    onBadRow: opt.enum(["fail", "skip"], {
      default: onBadRow,
      flag: "--on-bad-row <policy>",
      help: "fail: stop at the first bad row; skip: skip and report every bad row",
    }),
  };
}

/** The shared reading settings: how a labelled file is parsed and mapped to examples. */
export function readSchema(onBadRow: "fail" | "skip" = "fail", withConll = false) {
  return { ...fileFormatSchema(withConll), ...COLUMN_SCHEMA, ...LABEL_TYPE_SCHEMA, ...badRowSchema(onBadRow) };
}

export interface ReadFlags {
  format?: string;
  delimiter?: string;
  quote?: string;
  header: boolean;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelType?: string;
  groupColumn?: string;
  onBadRow: string;
}

/** The reader's options from the shared settings ("\t" or "tab" for a tab, "none" for no quoting). */
export function readOptionsFrom(f: ReadFlags): ExampleReadOptions {
  if (f.format !== undefined && !DATA_FORMATS.includes(f.format as DataFormat))
    throw new GraftError(`--format must be one of ${DATA_FORMATS.join(", ")}, got "${f.format}"`);
  if (!["string", "int", "float"].includes(f.labelType ?? "string"))
    throw new GraftError(`--label-type must be string, int or float, got "${f.labelType}"`);
  if (f.onBadRow !== "fail" && f.onBadRow !== "skip")
    throw new GraftError(`--on-bad-row must be "skip" or "fail", got "${f.onBadRow}"`);
  const delimiter = f.delimiter === "\\t" || f.delimiter === "tab" ? "\t" : f.delimiter;
  return {
    ...(f.format !== undefined ? { format: f.format as DataFormat } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(f.quote !== undefined ? { quote: f.quote === "none" || f.quote === "" ? null : f.quote } : {}),
    header: f.header,
    ...(f.textColumn !== undefined ? { textColumn: f.textColumn } : {}),
    ...(f.textPairColumn !== undefined ? { textPairColumn: f.textPairColumn } : {}),
    ...(f.labelColumn !== undefined ? { labelColumn: f.labelColumn } : {}),
    ...(f.groupColumn !== undefined ? { groupColumn: f.groupColumn } : {}),
    labelType: (f.labelType ?? "string") as LabelType,
    onBadRow: f.onBadRow,
  };
}
