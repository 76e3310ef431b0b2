#!/usr/bin/env bash
# Multi30k in both directions for one text-to-text model: every pair twice, once per direction, the direction named by
# a T5-style prefix in the source. Writes OUT/{train,val,test_2016_flickr}.{src,tgt} (graft finetune --task seq2seq
# --source-lang src --target-lang tgt), and OUT/test_2016_flickr.{en-de,de-en}.src: the test sources of one direction.
# Usage: scripts/recipes/multi30k-bidirectional.sh ../shared/datasets/multi30k_en_de OUT
set -euo pipefail
D=${1:?multi30k directory} OUT=${2:?output directory}
mkdir -p "$OUT"
EN_DE="translate English to German: " DE_EN="translate German to English: "
for split in train val test_2016_flickr; do
  n_en=$(wc -l < "$D/$split.en") n_de=$(wc -l < "$D/$split.de")
  [ "$n_en" = "$n_de" ] || { echo "$D/$split.en has $n_en lines but $split.de has $n_de" >&2; exit 1; }
  sed "s/^/$EN_DE/" "$D/$split.en" > "$OUT/$split.en-de.src"
  sed "s/^/$DE_EN/" "$D/$split.de" > "$OUT/$split.de-en.src"
  cat "$OUT/$split.en-de.src" "$OUT/$split.de-en.src" > "$OUT/$split.src"
  cat "$D/$split.de" "$D/$split.en" > "$OUT/$split.tgt"
done
echo "wrote $OUT: $(wc -l < "$OUT/train.src") training pairs (both directions)"
