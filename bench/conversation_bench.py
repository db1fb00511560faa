#!/usr/bin/env python3
"""A first question and its follow-up about the same video, through the vlm-emulator on loopback, side by side:

for each clip (a 10-minute 1080p30 H.264 and a 20-second one) and each way of asking (frame_slicer resending its
images, frame_slicer by reference, native_video's file delivery by reference), the first question and the follow-up:
- client time: from calling ask until the emulator has received the whole request (its log line);
- bytes sent (the request body as the emulator received it);
- the emulator's media work: fetched and decoded, or taken from its processor cache;
- prompt tokens shared with the previous request from the start (what vLLM's prefix cache would reuse).
Targets: the follow-up on the 10-minute clip under 50 ms of client time, and by reference under 64 KB; the
emulator reports its media as cached and the whole earlier request as a shared prefix.

Usage: bench/conversation_bench.py [--build build/release] [--work DIR] [--long-minutes 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bindings" / "python"))

import jarvis_vision  # noqa: E402
from bench_support import Emulator, make_video  # noqa: E402

MODEL = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"


def ask(provider: jarvis_vision.Provider, emulator: Emulator, video: Path | None, prompt: str,
        conversation: dict[str, Any] | None) -> dict[str, Any]:
    start = time.monotonic()
    result = provider.ask(video, prompt, conversation=conversation) if conversation else provider.ask(video, prompt)
    received_at, size = emulator.last_request()
    report = emulator.last_report()
    kinds = sorted({f"{m['media']}/{m['processor_cache']}" for m in report["media"]})
    return {"client_ms": (received_at - start) * 1000, "bytes": size, "media": ",".join(kinds),
            "prefix": f"{report['prefix']['shared_tokens']}/{report['prefix']['previous_tokens']}",
            "result": result}


WAYS: list[tuple[str, str, dict[str, Any]]] = [
    ("frame_slicer, resend", f"vllm://{MODEL}#max_frames=32", {}),
    ("frame_slicer, reference", f"vllm://{MODEL}#max_frames=32", {"conversation": {"media": "reference"}}),
    ("native_video file, reference", f"vllm://{MODEL}#nativevideo#delivery=file#fps=0.1",
     {"conversation": {"media": "reference"}, "input_data": "the clip's folder"}),
]


def run_one(build: Path, clip: Path, label: str, way: int) -> None:
    """One way of asking, in a process of its own: the plugins' media cache starts empty, as for a first question."""
    name, loadout, extra = WAYS[way]
    if "input_data" in extra:
        extra = {**extra, "input_data": {"host_path": str(clip.parent), "container_path": str(clip.parent)}}
    emulator = Emulator(build / "bin" / "vlm-emulator", "--allowed-local-media-path", str(clip.parent))
    try:
        config: dict[str, Any] = {"endpoint": {"base_url": emulator.base_url, "timeout_s": 600}, **extra}
        with jarvis_vision.Client(config, plugin_dir=build / "lib" / "jarvis" / "plugins") as client:
            provider = client.provider(loadout)
            first = ask(provider, emulator, clip, "What happens in this clip?", None)
            follow = ask(provider, emulator, None, "And who opens the door?", first["result"]["conversation"])
    finally:
        emulator.stop()
    for turn, r in (("first", first), ("follow-up", follow)):
        print(f"{label:>10} | {name:<30} | {turn:<9} | {r['client_ms']:9.1f} ms | {r['bytes']:>10} B | "
              f"{r['media']:<20} | prefix {r['prefix']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", type=Path, default=HERE.parent / "build" / "release")
    parser.add_argument("--work", type=Path, default=Path("/tmp/jarvis-conversation-bench"))
    parser.add_argument("--long-minutes", type=float, default=10)
    parser.add_argument("--one", nargs=3, metavar=("CLIP", "LABEL", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.build, Path(args.one[0]), args.one[1], int(args.one[2]))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    short = make_video(args.work / "clip20s.mp4", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "20",
                       "-c:v", "libx264", "-preset", "veryfast", "-g", "250")
    long = make_video(args.work / f"clip{args.long_minutes:g}min.mp4", "-f", "lavfi", "-i",
                      "testsrc2=size=1920x1080:rate=30", "-t", str(args.long_minutes * 60), "-c:v", "libx264",
                      "-preset", "veryfast", "-g", "250")
    print(f"{'clip':>10} | {'way':<30} | {'turn':<9} | {'client':>12} | {'sent':>12} | {'emulator media':<20} | prefix")
    for clip, label in ((short, "20 s"), (long, f"{args.long_minutes:g} min")):
        for way in range(len(WAYS)):
            subprocess.run([sys.executable, __file__, "--build", str(args.build), "--one", str(clip), label, str(way)],
                           check=True)


if __name__ == "__main__":
    main()
