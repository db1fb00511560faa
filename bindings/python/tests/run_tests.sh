#!/usr/bin/env bash
# Installs the package the build laid out (build/<preset>/python) into a fresh venv, offline, the way the README
# tells a Jarvis developer to, then runs the pytest suite against it. pytest's exit 5 (nothing collected) fails.
# Usage: run_tests.sh STAGED_PACKAGE_DIR VENV_DIR [pytest args...]
# With JARVIS_PRELOAD set (the ASan runtime), the tests run with it preloaded into Python.
set -euo pipefail
stage=$1 venv=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --quiet --no-build-isolation --no-index --no-cache-dir "$stage"
cd "$here"
if [ -n "${JARVIS_PRELOAD:-}" ]; then
    export LD_PRELOAD="$JARVIS_PRELOAD"
fi
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" "$here"
