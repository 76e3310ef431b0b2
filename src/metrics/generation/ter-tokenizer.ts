/**
 * Tercom's normalizer as sacrebleu reimplements it (TercomTokenizer): lowercase unless
 * case-sensitive; optional Western/Asian normalization and punctuation removal; whitespace collapsed.
 */
import { pySplit } from "../../util/pytext.js";

export interface TercomOptions {
  normalized?: boolean;
  noPunct?: boolean;
  asianSupport?: boolean;
  caseSensitive?: boolean;
}

function normalizeGeneralAndWestern(s: string): string {
  s = s.replace(/\n-/g, "").replace(/\n/g, " ");
  s = s
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");
  s = ` ${s} `;
  s = s.replace(/([{-~[-`\u0020-&(-+:-@/])/gu, " $1 ");
  // possessives
  s = s.replace(/'s /g, " 's ").replace(/'s$/g, " 's");
  s = s.replace(/([^0-9])([.,])/gu, "$1 $2 ");
  s = s.replace(/([.,])([^0-9])/gu, " $1 $2");
  s = s.replace(/([0-9])(-)/gu, "$1 $2 ");
  return s;
}

const ASIAN_PUNCT = /([\u3001\u3002\u3008-\u3011\u3014-\u301f\uff61-\uff65\u30fb])/gu;
const FULL_WIDTH_PUNCT = /([\uff0e\uff0c\uff1f\uff1a\uff1b\uff01\uff02\uff08\uff09])/gu;

function normalizeAsian(s: string): string {
  // CJK ideographs, strokes, radicals, compatibility forms: one token per character.
  s = s.replace(/([\u4e00-\u9fff\u3400-\u4dbf])/gu, " $1 ");
  s = s.replace(/([\u31c0-\u31ef\u2e80-\u2eff])/gu, " $1 ");
  s = s.replace(/([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])/gu, " $1 ");
  s = s.replace(/([\u3200-\u3f22])/gu, " $1 ");
  // Kana runs, as written in Tercom/sacrebleu (these only match a line that is one kana run).
  s = s.replace(/(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])/gu, "$1 $2 ");
  s = s.replace(/(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])/gu, "$1 $2 ");
  s = s.replace(/(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])/gu, "$1 $2 ");
  s = s.replace(ASIAN_PUNCT, " $1 ").replace(FULL_WIDTH_PUNCT, " $1 ");
  return s;
}

export function tercomTokenize(sent: string, o: TercomOptions = {}): string {
  if (!sent) return "";
  if (!o.caseSensitive) sent = sent.toLowerCase();
  if (o.normalized) {
    sent = normalizeGeneralAndWestern(sent);
    if (o.asianSupport) sent = normalizeAsian(sent);
  }
  if (o.noPunct) {
    sent = sent.replace(/[.,?:;!"()]/g, "");
    if (o.asianSupport) sent = sent.replace(ASIAN_PUNCT, "").replace(FULL_WIDTH_PUNCT, "");
  }
  return pySplit(sent).join(" ");
}
