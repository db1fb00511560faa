#!/usr/bin/env bash
# Sets up, builds, and asks a question about a generated sample video with jarvis-host: against the bundled
# vlm-emulator, or against a real vLLM when JARVIS_ENDPOINT names one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release --target jarvis-host plugins vlm-emulator

host=build/release/bin/jarvis-host
sample=build/release/sample/bouncing_ball.mp4
if [ ! -f "$sample" ]; then
    mkdir -p "$(dirname "$sample")"
    # Six seconds of a ball crossing the picture, with a running clock: something that happens in time.
    ffmpeg -nostdin -v error -y -f lavfi \
        -i "color=c=navy:size=854x480:rate=30,drawbox=x='mod(t*160,854)':y=200:w=60:h=60:color=yellow:t=fill,drawtext=text='%{pts\:hms}':x=20:y=20:fontsize=36:fontcolor=white" \
        -t 6 -c:v libx264 -pix_fmt yuv420p "$sample" 2>/dev/null ||
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=854x480:rate=30" -t 6 -c:v libx264 -pix_fmt yuv420p "$sample"
fi

echo "== plugins"
"$host" plugins
echo
echo "== plan (native video): what would be sent to the server"
"$host" --loadout 'vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#ctx=32768' \
    plan --video "$sample" --prompt "What happens in this clip?"
echo
if [ -n "${JARVIS_ENDPOINT:-}" ]; then
    endpoint=$JARVIS_ENDPOINT
else
    # The bundled emulator: behaves like vLLM serving Qwen3-VL, decodes what it receives and describes it.
    log=$(mktemp)
    build/release/bin/vlm-emulator --port 0 --served-model-name QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ > "$log" &
    emulator=$!
    trap 'kill $emulator 2>/dev/null; rm -f "$log"' EXIT
    for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.05; done
    endpoint="$(sed -n 's/^listening on //p' "$log")/v1"
fi
echo "== ask (native video, streamed) at $endpoint"
"$host" --endpoint "$endpoint" --loadout 'vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#ctx=32768' \
    ask --video "$sample" --prompt "What happens in this clip?" --stream
echo
echo "(Against the emulator the answer describes what the server received. For a real model, start vLLM as the"
echo " README shows and run: JARVIS_ENDPOINT=http://127.0.0.1:8000/v1 scripts/demo.sh)"
