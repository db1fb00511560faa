#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan/UBSan) and runs each for SECONDS (default 60), seeded with
# what the tests use: Jarvis's loadouts, configuration and request documents, a streamed answer, H.264 from x264, HLS playlists,
# small MP4, MPEG-TS, Matroska, WebM, AVI, GIF and WMV files (probing, indexing and frame extraction), chat requests carrying real media
# in data: URLs (the emulator), HTTP requests and ranges (the media server), prompts in many scripts (the tokenizer).
# Crashes are written to build/fuzz/crashes/<target>/; each one found becomes a test.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/setup.sh
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz

out=build/fuzz/fuzzing
mkdir -p "$out/seeds/h264" "$out/seeds/container" "$out/seeds/emulator"
if [ ! -s "$out/seeds/h264/x264.h264" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=160x96:rate=10 -t 1 -c:v libx264 -bf 2 -f h264 "$out/seeds/h264/x264.h264"
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=160x96:rate=10 -t 1 -c:v libx264 -x264-params interlaced=1 -f h264 \
        "$out/seeds/h264/interlaced.h264"
fi

tiny=(-f lavfi -i testsrc2=size=64x48:rate=5 -t 1)
if [ ! -s "$out/seeds/container/h264.mp4" ]; then
    # Small real files of the containers users have: the fuzzer mutates their boxes, headers and packets.
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 -bf 2 "$out/seeds/container/h264.mp4"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 -f mpegts "$out/seeds/container/h264.ts"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 "$out/seeds/container/h264.mkv"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libvpx-vp9 -deadline realtime "$out/seeds/container/vp9.webm"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v mpeg4 "$out/seeds/container/mpeg4.avi"
fi
if [ ! -s "$out/seeds/container/screen.gif" ]; then
    # What screen recorders and older Windows tools save (the Windows build reads them too).
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v gif "$out/seeds/container/screen.gif"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v wmv2 "$out/seeds/container/wmv2.wmv"
fi
if [ ! -s "$out/seeds/container/hevc_faststart.mp4" ]; then
    # MP4s whose index is read from their sample tables without the frames (frameless_demuxer): HEVC with its tables
    # first, and a fragmented one, which must be told apart.
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx265 -x265-params log-level=error -tag:v hvc1 -movflags +faststart \
        "$out/seeds/container/hevc_faststart.mp4"
    ffmpeg -nostdin -v error -y "${tiny[@]}" -c:v libx264 -movflags frag_keyframe+empty_moov "$out/seeds/container/fragmented.mp4"
fi
if [ ! -s "$out/seeds/container/photo.heic" ]; then
    # Phones' photos: a HEIC (refused by its brands) and an AVIF (read through the MP4 demuxer's item boxes).
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$out/seeds/photo.png"
    heif-enc -q 50 "$out/seeds/photo.png" -o "$out/seeds/container/photo.heic" > /dev/null
    heif-enc --avif -q 50 "$out/seeds/photo.png" -o "$out/seeds/container/photo.avif" > /dev/null
fi

if [ ! -s "$out/seeds/emulator/video_mp4.json" ]; then
    # Chat requests with real media in data: URLs, as the deliveries send them: an image, a video file, a frame list.
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=5 -t 1 -c:v libx264 -bf 2 "$out/seeds/emulator/tiny.mp4"
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48 -frames:v 2 -c:v mjpeg -f image2 "$out/seeds/emulator/tiny%d.jpg"
    python3 - "$out/seeds/emulator" <<'PY'
import base64, json, pathlib, sys
seeds = pathlib.Path(sys.argv[1])
b64 = lambda name: base64.b64encode((seeds / name).read_bytes()).decode()
def request(parts):
    return json.dumps({"messages": [{"role": "user", "content": parts + [{"type": "text", "text": "What happened?"}]}],
                       "max_tokens": 32})
(seeds / "video_mp4.json").write_text(request([{"type": "video_url", "video_url": {"url": "data:video/mp4;base64," + b64("tiny.mp4")}}]))
(seeds / "image_jpeg.json").write_text(request([{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + b64("tiny1.jpg")}}]))
(seeds / "frames.json").write_text(json.dumps({
    "messages": [{"role": "user", "content": [{"type": "video_url", "uuid": "u1",
                  "video_url": {"url": "data:video/jpeg;base64," + b64("tiny1.jpg") + "," + b64("tiny2.jpg")}}]}],
    "mm_processor_kwargs": {"fps": 2, "do_sample_frames": False},
    "media_io_kwargs": {"video": {"num_frames": -1}}}))
for name in ("tiny.mp4", "tiny1.jpg", "tiny2.jpg"):
    (seeds / name).unlink()
PY
fi

status=0
for target in fuzz_documents fuzz_sse fuzz_h264_headers fuzz_hls_playlist fuzz_container fuzz_emulator_request fuzz_media_server fuzz_tokenizer; do
    case $target in
        fuzz_documents) seeds=tests/fuzz/corpus/documents ;;
        fuzz_sse) seeds=tests/fuzz/corpus/sse ;;
        fuzz_h264_headers) seeds=$out/seeds/h264 ;;
        fuzz_hls_playlist) seeds=tests/fuzz/corpus/hls_playlist ;;
        fuzz_container) seeds=$out/seeds/container ;;
        fuzz_emulator_request) seeds="$out/seeds/emulator tests/fuzz/corpus/emulator" ;;
        fuzz_media_server) seeds=tests/fuzz/corpus/media_server ;;
        fuzz_tokenizer) seeds=tests/fuzz/corpus/tokenizer ;;
    esac
    corpus=$out/corpus/$target
    crashes=$out/crashes/$target
    mkdir -p "$corpus" "$crashes"
    echo "=== $target: ${seconds} s"
    if ! "build/fuzz/bin/$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" \
            "$corpus" $seeds > "$out/$target.log" 2>&1; then
        status=1
        echo "$target FOUND A CRASH: see $out/$target.log and $crashes/"
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: [0-9]+" "$out/$target.log" | tail -3 || true
done
exit $status
