#!/usr/bin/env bash
# Regenerates plugin_api/abi/vision_provider.abi from the current header. Run it only together with a deliberate
# ABI change, and raise JV_ABI_MINOR (append) or JV_ABI_MAJOR (anything else) in the same commit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g++ -g -O0 -shared -fPIC -fvisibility=hidden -I "$top/plugin_api/include" "$top/tests/abi/abi_probe.cpp" -o "$work/probe.so"
abidw --no-corpus-path "$work/probe.so" --out-file "$top/plugin_api/abi/vision_provider.abi"
echo "wrote plugin_api/abi/vision_provider.abi"
