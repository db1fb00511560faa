#!/usr/bin/env bash
# The plugin ABI against the committed baseline (plugin_api/abi/vision_provider.abi), with libabigail.
#   1. Each real plugin's ABI must match the baseline (appending at the end of a struct is allowed).
#   2. The check itself must catch breaking changes: the ABI probe is compiled against altered copies of the
#      header; appending a member must pass, inserting, removing or reordering members must fail.
# Usage: check_abi.sh SOURCE_DIR PLUGIN.so...
set -euo pipefail
src=$1; shift
baseline=$src/plugin_api/abi/vision_provider.abi
suppressions=$src/plugin_api/abi/allowed.suppr
header=$src/plugin_api/include/jarvis/vision_provider.h
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
# Two passes, because libabigail 2.2's has_data_member_inserted_at suppression also hides deletions and reorderings
# (it matches vacuously on a struct whose own members are unchanged, or which lost members):
#   1. with the suppression: members inserted anywhere but the end fail;
#   2. leaf changes without it: any deleted member, any member whose offset or type changed, any removed symbol,
#      or any struct that shrank fails; what remains can only be members appended at the end.
abi_matches() { # FILE.so -> 0 when compatible with the baseline
    local rc=0
    abidiff --suppressions "$suppressions" "$baseline" "$1" > "$work/report.txt" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || return 1
    rc=0
    abidiff --leaf-changes-only "$baseline" "$1" > "$work/report.txt" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && return 0
    [ "$rc" -eq 4 ] || return 1
    if grep -Eq 'deletion|there are data member changes|[1-9][0-9]* Removed' "$work/report.txt"; then
        return 1
    fi
    # A struct may only grow.
    ! grep -Eo 'type size changed from [0-9]+ to [0-9]+' "$work/report.txt" | awk '$5 > $7 { bad = 1 } END { exit !bad }'
}

for plugin in "$@"; do
    if abi_matches "$plugin"; then
        echo "ok: $(basename "$plugin") matches the ABI baseline"
    else
        echo "FAIL: $(basename "$plugin") differs from the ABI baseline:"; cat "$work/report.txt"
        failures=$((failures + 1))
    fi
done

# mutate NAME EXPECT SED-SCRIPT: builds the probe against the altered header and checks the verdict.
mutate() {
    local name=$1 expect=$2 script=$3
    mkdir -p "$work/$name/jarvis"
    sed -e "$script" "$header" > "$work/$name/jarvis/vision_provider.h"
    if [ "$name" != unchanged ] && cmp -s "$header" "$work/$name/jarvis/vision_provider.h"; then
        echo "FAIL: the '$name' alteration did not change the header"; failures=$((failures + 1)); return
    fi
    g++ -g -O0 -shared -fPIC -fvisibility=hidden -I "$work/$name" "$src/tests/abi/abi_probe.cpp" -o "$work/$name/probe.so"
    local verdict=breaks
    abi_matches "$work/$name/probe.so" && verdict=compatible
    if [ "$verdict" = "$expect" ]; then
        echo "ok: header $name -> $verdict"
    else
        echo "FAIL: header $name -> $verdict, expected $expect"; cat "$work/report.txt"
        failures=$((failures + 1))
    fi
}

mutate unchanged compatible ''
mutate append-to-table compatible '/ABI 1.x: append new members below this line only/a\    int32_t (*added_later)(jv_provider *provider);'
mutate append-to-callbacks compatible '/int32_t (\*is_cancelled)(void \*user_data);/a\    void (*added_later)(void *user_data);'
mutate insert-into-table breaks '/const char \*version;/a\    uint32_t inserted;'
mutate remove-from-table breaks '/void (\*destroy)(jv_provider \*provider);/d'
mutate remove-from-callbacks breaks '/void (\*on_progress)(void \*user_data, const char \*stage, double fraction);/d'
mutate reorder-table breaks '/const char \*name; /{h;d}; /const char \*version;/G'
mutate resize-error-message breaks 's/#define JV_ERROR_MESSAGE_SIZE 2048/#define JV_ERROR_MESSAGE_SIZE 1024/'

if [ "$failures" -ne 0 ]; then
    echo "$failures ABI check(s) failed"
    exit 1
fi
echo "ABI checks passed"
