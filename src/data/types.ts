/** The plain records every reader produces; JSON-serializable so a run can save them or a summary of them. */

/** One classification / regression / pair example. `line` is the 1-based line where its row starts in `file`. */
export interface Example {
  text: string;
  /** Second text of a pair task (NLI, paraphrase), from --text-pair-column. */
  textPair?: string;
  /** Class name (string) or regression target (number); absent for unlabelled data. */
  label?: string | number;
  /** Group id from --group-column (rows of one group stay on one side of a group k-fold split). */
  group?: string;
  line: number;
}

/** One sentence of a CoNLL-style file: tokens with one tag each, plus every column as read. */
export interface TaggedSentence {
  tokens: string[];
  tags: string[];
  /** columns[i] = all columns of token i (token first), for readers that want POS or chunk tags too. */
  columns: string[][];
  line: number;
  /** Index of the document (counted by -DOCSTART- lines; 0 when the file has none). */
  document: number;
}

/** One aligned source/target pair of a translation corpus. */
export interface ParallelPair {
  source: string;
  target: string;
  line: number;
}

/** What to do with a row that fails validation. */
export type BadRowPolicy = "skip" | "fail";

export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

/** What a reader saw: nothing is dropped without being counted here. */
export interface ReadReport {
  file: string;
  format: string;
  /** Column names (header, or "0", "1", ... without one); empty for formats without columns. */
  columns: string[];
  /** Which columns the examples' fields came from (column-based formats). */
  roles?: { text: string; textPair?: string; label?: string };
  /** Data rows (or sentences, or pairs) read, good or bad. */
  rows: number;
  kept: number;
  /** Blank lines between rows: not data in any format, counted so the totals add up. */
  blankLines: number;
  skipped: BadRow[];
}
