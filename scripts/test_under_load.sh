#!/usr/bin/env bash
# On demand: the debug suite RUNS times in a row (default 3) while BUSY processes (default 4) keep both cores busy,
# to show that the tests synchronise on what they observe and not on time. Stops at the first failing run.
# The busy processes are plain CPU loops; BUSY=0 when the load comes from elsewhere (a fuzzing campaign, say).
# Usage: scripts/test_under_load.sh [RUNS]     (the debug build must exist: cmake --workflow --preset debug)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
busy=${BUSY:-4}
pids=()
stop_busy() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2> /dev/null || true; }
trap stop_busy EXIT
for _ in $(seq 1 "$busy"); do
    sh -c 'while :; do :; done' &
    pids+=($!)
done
for run in $(seq 1 "$runs"); do
    start=$(date +%s)
    echo "=== run $run of $runs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if ! ctest --preset debug > "build/debug/under_load_run$run.log" 2>&1; then
        grep -E "tests passed|Failed|\*\*\*" "build/debug/under_load_run$run.log" | tail -20
        echo "run $run FAILED (log: build/debug/under_load_run$run.log)"
        exit 1
    fi
    echo "run $run passed in $(( $(date +%s) - start )) s: $(grep -E 'tests passed' "build/debug/under_load_run$run.log"), load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
