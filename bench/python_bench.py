#!/usr/bin/env python3
"""The Python package's costs, side by side with jarvis-host's in one run, against the vlm-emulator on loopback:

1. overhead per ask: wall time of the call minus the time the plugin itself reports (result timings.total_s), for
   Provider.ask in a long-lived Python process and for one jarvis-host process per ask (its start, plugin loading and
   output included); target for Python: under 5 ms;
2. text piece latency from the plugin (the moment its on_text callback enters Python, on the call's thread) to an
   asyncio consumer of Provider.stream(); target: p99 under 5 ms;
3. the longest event-loop stall while ask_async decodes a 60 s 720p video (a 1 ms ticker measures it); target:
   under 20 ms;
4. task.cancel() to CancelledError (when it arrives, the plugin's call has returned), for an ask waiting on the
   server and for one decoding the 60 s video; target: under 200 ms.

Usage: bench/python_bench.py [--build build/release] [--rounds 30] [--work DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bindings" / "python"))

import jarvis_vision  # noqa: E402
from jarvis_vision import _call  # noqa: E402
from bench_support import Emulator, make_video  # noqa: E402

MODEL = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def overhead(build: Path, clip: Path, rounds: int) -> None:
    emulator = Emulator(build / "bin" / "vlm-emulator")
    loadout = f"vllm://{MODEL}#nativevideo#delivery=data"
    python_overheads, host_overheads, python_walls, host_walls = [], [], [], []
    try:
        with jarvis_vision.Client({"endpoint": {"base_url": emulator.base_url}},
                                  plugin_dir=build / "lib" / "jarvis" / "plugins") as client:
            provider = client.provider(loadout)
            provider.ask(clip, "warm up")
            for _ in range(rounds):  # alternating, so both see the same machine
                start = time.perf_counter()
                result = provider.ask(clip, "What moves?")
                wall = time.perf_counter() - start
                python_walls.append(wall)
                python_overheads.append(wall - result["timings"]["total_s"])

                start = time.perf_counter()
                out = subprocess.run([str(build / "bin" / "jarvis-host"), "--endpoint", emulator.base_url, "--loadout", loadout,
                                      "ask", "--video", str(clip), "--prompt", "What moves?", "--json"],
                                     capture_output=True, text=True, check=True)
                wall = time.perf_counter() - start
                host_walls.append(wall)
                host_overheads.append(wall - json.loads(out.stdout)["timings"]["total_s"])
    finally:
        emulator.stop()
    ms = lambda v: f"{1000 * statistics.median(v):7.2f} ms"  # noqa: E731
    print(f"\n1. per ask, {rounds} rounds alternating (2 s 320x240 clip, data delivery), medians:")
    print(f"   {'':28} {'wall':>10} {'overhead':>10}")
    print(f"   {'Python Provider.ask':28} {ms(python_walls)} {ms(python_overheads)}")
    print(f"   {'jarvis-host ask (a process)':28} {ms(host_walls)} {ms(host_overheads)}")
    print(f"   Python overhead p90 {1000 * percentile(python_overheads, 90):.2f} ms (target < 5 ms); "
          f"jarvis-host / Python wall: {statistics.median(host_walls) / statistics.median(python_walls):.2f}x")


def piece_latency(build: Path, clip: Path) -> None:
    emulator = Emulator(build / "bin" / "vlm-emulator", "--answer-padding-bytes", "20000", "--fault-chunk-delay-ms", "1")
    sent: list[float] = []
    original = _call.Call._take_text

    def timed(self: _call.Call, user: object, data: object, length: int) -> None:
        sent.append(time.perf_counter())
        original(self, user, data, length)

    _call.Call._take_text = timed  # type: ignore[method-assign]
    received: list[float] = []

    async def consume() -> None:
        with jarvis_vision.Client({"endpoint": {"base_url": emulator.base_url}},
                                  plugin_dir=build / "lib" / "jarvis" / "plugins") as client:
            async with client.provider(f"vllm://{MODEL}").stream(clip, "What moves?") as answer:
                async for _piece in answer:
                    received.append(time.perf_counter())

    try:
        asyncio.run(consume())
    finally:
        _call.Call._take_text = original  # type: ignore[method-assign]
        emulator.stop()
    latencies = [1000 * (r - s) for s, r in zip(sent, received)]
    print(f"\n2. text pieces from the plugin's callback to an asyncio consumer ({len(latencies)} pieces):")
    print(f"   median {statistics.median(latencies):.3f} ms, p99 {percentile(latencies, 99):.3f} ms, "
          f"max {max(latencies):.3f} ms (target p99 < 5 ms)")


def loop_stall(build: Path, video: Path) -> None:
    emulator = Emulator(build / "bin" / "vlm-emulator")
    gaps: list[float] = []

    async def main() -> dict[str, object]:
        done = False

        async def ticker() -> None:
            last = time.perf_counter()
            while not done:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last - 0.001)
                last = now

        with jarvis_vision.Client({"endpoint": {"base_url": emulator.base_url}},
                                  plugin_dir=build / "lib" / "jarvis" / "plugins") as client:
            task = asyncio.create_task(ticker())
            result = await client.provider(f"vllm://{MODEL}").ask_async(video, "What happens?")
            done = True
            await task
            return result

    try:
        result = asyncio.run(main())
    finally:
        emulator.stop()
    timings = result["timings"]
    assert isinstance(timings, dict)
    print(f"\n3. event loop during ask_async on a 60 s 720p video ({timings['media_s']:.2f} s decoding, "
          f"{len(gaps)} ticks of 1 ms):")
    print(f"   longest stall {1000 * max(gaps):.2f} ms, p99 {1000 * percentile(gaps, 99):.2f} ms (target < 20 ms)")


def cancel_latency(build: Path, video: Path, rounds: int = 10) -> None:
    hanging = Emulator(build / "bin" / "vlm-emulator", "--fault-hang")
    waiting: list[float] = []
    decoding: list[float] = []

    async def cancel_after(make: "asyncio.Future[object] | object", delay: float, into: list[float]) -> None:
        task = asyncio.ensure_future(make)  # type: ignore[arg-type]
        await asyncio.sleep(delay)
        started = time.perf_counter()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            into.append(time.perf_counter() - started)

    async def main() -> None:
        with jarvis_vision.Client({"endpoint": {"base_url": hanging.base_url}},
                                  plugin_dir=build / "lib" / "jarvis" / "plugins") as client:
            waiting_provider = client.provider(f"vllm://{MODEL}#nativevideo#delivery=data")
            decoding_provider = client.provider(f"vllm://{MODEL}")
            for _ in range(rounds):
                await cancel_after(waiting_provider.ask_async(video, "x"), 0.5, waiting)
                await cancel_after(decoding_provider.plan_async(video, "x", max_frames=400), 0.3, decoding)

    try:
        asyncio.run(main())
    finally:
        hanging.stop()
    print(f"\n4. task.cancel() to CancelledError, {rounds} rounds each (target < 200 ms):")
    print(f"   waiting on the server: median {1000 * statistics.median(waiting):.1f} ms, max {1000 * max(waiting):.1f} ms")
    print(f"   decoding a 60 s 720p video: median {1000 * statistics.median(decoding):.1f} ms, max {1000 * max(decoding):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", type=Path, default=HERE.parent / "build" / "release")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/jarvis-python-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clip = make_video(args.work / "clip.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264")
    long = make_video(args.work / "long720.mp4", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "60",
                      "-c:v", "libx264", "-preset", "veryfast", "-g", "250")
    overhead(args.build, clip, args.rounds)
    piece_latency(args.build, clip)
    loop_stall(args.build, long)
    cancel_latency(args.build, long)


if __name__ == "__main__":
    main()
