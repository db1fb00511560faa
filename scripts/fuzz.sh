#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan/UBSan) and runs each for SECONDS (default 60), seeded with
# what the tests use: Jarvis's loadouts, configuration and request documents, a streamed answer, H.264 from x264,
# small MP4, MPEG-TS, WebM and AVI files (probing, indexing and frame extraction).
# Crashes are written to build/fuzz/crashes/<target>/; each one found becomes a test.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/setup.sh
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz

out=build/fuzz/fuzzing
mkdir -p "$out/seeds/h264" "$out/seeds/container"
if [ ! -s "$out/seeds/h264/x264.h264" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=160x96:rate=10 -t 1 -c:v libx264 -bf 2 -f h264 "$out/seeds/h264/x264.h264"
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=160x96:rate=10 -t 1 -c:v libx264 -x264-params interlaced=1 -f h264 \
        "$out/seeds/h264/interlaced.h264"
fi

if [ ! -s "$out/seeds/container/h264.mp4" ]; then
    # Small real files of the containers users have: the fuzzer mutates their boxes, headers and packets.
    tiny=(-f lavfi -i testsrc2=size=64x48:rate=5 -t 1)
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 -bf 2 "$out/seeds/container/h264.mp4"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 -f mpegts "$out/seeds/container/h264.ts"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libvpx-vp9 -deadline realtime "$out/seeds/container/vp9.webm"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v mpeg4 "$out/seeds/container/mpeg4.avi"
fi

status=0
for target in fuzz_documents fuzz_sse fuzz_h264_headers fuzz_container; do
    case $target in
        fuzz_documents) seeds=tests/fuzz/corpus/documents ;;
        fuzz_sse) seeds=tests/fuzz/corpus/sse ;;
        fuzz_h264_headers) seeds=$out/seeds/h264 ;;
        fuzz_container) seeds=$out/seeds/container ;;
    esac
    corpus=$out/corpus/$target
    crashes=$out/crashes/$target
    mkdir -p "$corpus" "$crashes"
    echo "=== $target: ${seconds} s"
    if ! "build/fuzz/bin/$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" \
            "$corpus" "$seeds" > "$out/$target.log" 2>&1; then
        status=1
        echo "$target FOUND A CRASH: see $out/$target.log and $crashes/"
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: [0-9]+" "$out/$target.log" | tail -3 || true
done
exit $status
