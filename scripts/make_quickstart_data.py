"""Builds data/sms-spam/{train,test}.tsv: a seeded, stratified sample of the SMS Spam Collection (CC BY 4.0)
for the quick start. Usage: python3 scripts/make_quickstart_data.py ../shared/datasets/sms_spam/SMSSpamCollection"""
import random
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/sms_spam/SMSSpamCollection"
rows = []
seen = set()
with open(src, encoding="utf-8") as f:
    for line in f:
        label, text = line.rstrip("\n").split("\t", 1)
        text = " ".join(text.split())  # one line per message, no tabs
        if text in seen:  # duplicates would leak between train and test
            continue
        seen.add(text)
        rows.append((label, text))
rng = random.Random(20261126)
by = {}
for r in rows:
    by.setdefault(r[0], []).append(r)
train, test = [], []
for label, items in sorted(by.items()):
    rng.shuffle(items)
    share = len(items) / len(rows)
    n_train, n_test = round(2000 * share), round(1000 * share)
    train += items[:n_train]
    test += items[n_train:n_train + n_test]
rng.shuffle(train)
rng.shuffle(test)
for name, part in (("train", train), ("test", test)):
    with open(f"data/sms-spam/{name}.tsv", "w", encoding="utf-8") as f:
        f.write("label\ttext\n")
        for label, text in part:
            f.write(f"{label}\t{text}\n")
    print(name, len(part), sum(1 for l, _ in part if l == "spam"), "spam")
