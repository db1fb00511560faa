#!/usr/bin/env bash
# Sets up, builds and runs every test: the debug suite (with the ABI baseline check and the Python host),
# the ASan/UBSan suite, the threaded and HTTP tests under TSan, the clang-built plugins loaded by the gcc-built host, 30 s of
# each fuzz target, and the Windows build (mingw-w64) with its suite under Wine.
# Each build goes to build/<preset>/ and is incremental on a second run; the Windows FFmpeg and curl are cached in
# ~/.cache/jarvis-vision/windows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n=== %s\n' "$*"; }

step "debug: configure, build, test"
cmake --workflow --preset debug

step "asan: configure, build, test (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake --workflow --preset asan

step "tsan: the threaded and HTTP tests under ThreadSanitizer"
cmake --workflow --preset tsan

step "clang-plugins: plugins built with clang, loaded by the gcc-built host and tests"
cmake --preset clang-plugins > /dev/null
cmake --build --preset clang-plugins
JARVIS_TEST_PLUGIN_DIR="$PWD/build/clang-plugins/lib/jarvis/plugins" \
    ctest --preset debug --label-regex 'plugins|threads'

step "fuzz: each libFuzzer target for 30 s under ASan/UBSan (scripts/fuzz.sh; longer campaigns on demand)"
bash scripts/fuzz.sh 30

step "windows: cross-build the distribution (scripts/build_windows.sh), then its suite under Wine"
bash scripts/build_windows.sh
bash tests/windows/run_tests.sh build/debug

step "all test suites passed"
