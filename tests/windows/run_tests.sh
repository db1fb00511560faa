#!/usr/bin/env bash
# The Windows suite: the distribution scripts/build_windows.sh made (build/windows/dist), run under Wine, against the
# Linux build's emulator and jarvis-host (build/<preset>, default debug).
# Usage: tests/windows/run_tests.sh [linux build dir] [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
linux_build=${1:-build/debug}
shift || true

export JARVIS_WINDOWS_DIST=$PWD/build/windows/dist
export JARVIS_TEST_HOST=$PWD/$linux_build/bin/jarvis-host
export JARVIS_TEST_EMULATOR=$PWD/$linux_build/bin/vlm-emulator
# A Wine prefix of the suite's own, quiet, and without the Mono and Gecko installers' dialogs. Wine's errors about
# virtual memory stay on: its loader's rare failures to start a program, and a stack overflow it cannot report as an
# exception, would otherwise end the program with exit code 1 and not a word (conftest.py, wine_failed_to_start).
export WINEPREFIX=$PWD/build/windows/wineprefix
export WINEDEBUG=-all,err+virtual
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY

for f in "$JARVIS_WINDOWS_DIST/bin/jarvis-host.exe" "$JARVIS_TEST_HOST" "$JARVIS_TEST_EMULATOR"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "windows tests: $f is missing (build it first)" >&2; exit 1; }
done
# -p no:cacheprovider: nothing written into the source tree. A run that collects nothing fails (exit 5).
exec /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/windows "$@"
