#!/usr/bin/env python3
"""Soak: many asks from several threads over ONE native_video provider, mixing deliveries (file inside the volume,
file staged from outside it, http, data, frames), cancellations and the emulator's faults (connections dropped
mid-answer, errors mid-answer, 503s, slow chunks, requests that hang until cancelled).

Checks, and exits 1 when one fails:
- every call ends with the status its fault calls for (ok, UnreachableError, RefusedError, Cancelled);
- open file descriptors and threads are the same after the run as after the warm-up, and RSS grew by under 10%
  (with MALLOC_ARENA_MAX=1, so that glibc's per-thread arenas, which level off, do not hide or mimic a leak);
- nothing is left in the volume's staging folder or in the temporary directory.

Usage: bench/soak.py --emulator build/release/bin/vlm-emulator [--asks 1000] [--threads 4] [--plugin-dir DIR]
                     [--rss-limit PERCENT]
CI runs a short form (bindings/python/tests/test_soak.py): 120 asks, RSS reported but not judged.
(jarvis_vision must be importable: installed, or bindings/python on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

import jarvis_vision

MODEL = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"

# fault marker -> (streamed?, expected outcome)
FAULTS: dict[str, tuple[bool, str]] = {
    "": (False, "ok"),
    "[fault:slow]": (True, "ok"),
    "[fault:drop]": (True, "UnreachableError"),
    "[fault:error]": (True, "RefusedError"),
    "[fault:503]": (False, "RefusedError"),
    "[fault:hang]": (False, "Cancelled"),
}
DELIVERIES = ["file", "file-staged", "http", "data", "frames"]


def process_state() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1)),  # type: ignore[union-attr]
        "rss_kb": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)),  # type: ignore[union-attr]
    }


def make_video(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
                    "-c:v", "libx264", "-bf", "2", str(path)], check=True)
    return path


class Soak:
    def __init__(self, emulator_binary: str, plugin_dir: Optional[str], work: Path) -> None:
        self.volume = work / "volume"
        self.volume.mkdir()
        self.inside = make_video(self.volume / "inside.mp4")
        self.outside = make_video(work / "outside.mp4")
        # The server sees the volume where this machine does, as a container would at its container path.
        self.emulator = subprocess.Popen([emulator_binary, "--port", "0", "--fault-from-prompt", "--allowed-local-media-path",
                                          str(self.volume), "--answer-padding-bytes", "600"],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.emulator.stdout is not None
        match = re.search(r"listening on (http://\S+)", self.emulator.stdout.readline())
        assert match, "the emulator did not start"
        config = {"endpoint": {"base_url": match.group(1) + "/v1", "timeout_s": 60},
                  "input_data": {"host_path": str(self.volume), "container_path": str(self.volume)},
                  "http_delivery": {"advertise": "127.0.0.1"}}
        self.client = jarvis_vision.Client(config, plugin_dir=plugin_dir)
        self.provider = self.client.provider(f"vllm://{MODEL}#nativevideo#fallback=off")
        self.outcomes: Counter[str] = Counter()
        self.wrong: list[str] = []
        self.lock = threading.Lock()

    def one(self, n: int) -> None:
        rng = random.Random(n)
        fault = rng.choice(list(FAULTS))
        delivery = rng.choice(DELIVERIES)
        streamed, expected = FAULTS[fault]
        video = self.inside if delivery == "file" else self.outside
        cancel = threading.Event()
        timer: Optional[threading.Timer] = None
        if fault == "[fault:hang]":  # a hanging server answers never: only the cancel ends the call, whenever it comes
            timer = threading.Timer(rng.uniform(0.05, 0.4), cancel.set)
            timer.start()
        on_text: Optional[Callable[[str], None]] = (lambda piece: None) if streamed else None
        try:
            result = self.provider.ask(video, f"What happens? {fault}", on_text=on_text, cancel=cancel,
                                       delivery=delivery.replace("-staged", ""))
            outcome = "ok"
            if delivery != "frames" and "sha256" not in result["answer"]:
                outcome = "ok-but-no-video"
        except jarvis_vision.VisionError as e:
            outcome = type(e).__name__
        finally:
            if timer is not None:
                timer.cancel()
        with self.lock:
            self.outcomes[f"{fault or 'none'} -> {outcome}"] += 1
            if outcome != expected:
                self.wrong.append(f"ask {n}: {delivery} {fault or 'no fault'}: expected {expected}, got {outcome}")

    def run(self, asks: int, threads: int, rss_limit_pct: float) -> int:
        # TMPDIR is this run's own (main() sets it): anything in it at the end was left by the module.
        temp_before = set(os.listdir(tempfile.gettempdir()))
        warm_up = max(threads * 4, asks // 10)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self.one, range(warm_up)))
            after_warm_up = process_state()
            started = time.monotonic()
            list(pool.map(self.one, range(warm_up, asks)))
            elapsed = time.monotonic() - started
            at_end = process_state()
        self.provider.close()
        self.client.close()
        self.emulator.terminate()
        self.emulator.wait()

        failures = list(self.wrong)
        if at_end["fds"] != after_warm_up["fds"]:
            failures.append(f"open file descriptors: {after_warm_up['fds']} after warm-up, {at_end['fds']} at the end")
        if at_end["threads"] != after_warm_up["threads"]:
            failures.append(f"threads: {after_warm_up['threads']} after warm-up, {at_end['threads']} at the end")
        growth = at_end["rss_kb"] / after_warm_up["rss_kb"] - 1
        if rss_limit_pct >= 0 and growth > rss_limit_pct / 100:
            failures.append(f"RSS grew {100 * growth:.1f}% after warm-up ({after_warm_up['rss_kb']} -> {at_end['rss_kb']} kB)")
        staging = self.volume / ".jarvis-staging"
        left = list(staging.iterdir()) if staging.exists() else []
        if left:
            failures.append(f"left in the staging folder: {[p.name for p in left]}")
        left_in_temp = sorted(set(os.listdir(tempfile.gettempdir())) - temp_before)
        if left_in_temp:
            failures.append(f"left in {tempfile.gettempdir()}: {left_in_temp}")

        print(f"{asks} asks from {threads} threads over one provider in {elapsed:.1f} s after a {warm_up}-ask warm-up")
        for key, count in sorted(self.outcomes.items()):
            print(f"  {count:5d}  {key}")
        print(f"  fds {after_warm_up['fds']} -> {at_end['fds']}, threads {after_warm_up['threads']} -> {at_end['threads']}, "
              f"RSS {after_warm_up['rss_kb'] / 1024:.1f} -> {at_end['rss_kb'] / 1024:.1f} MB ({100 * growth:+.1f}%)")
        for f in failures[:20]:
            print(f"FAILED: {f}")
        print(f"{asks - len(self.wrong)} passed, {len(failures)} failed")
        return 1 if failures else 0


def main() -> None:
    # glibc gives threads malloc arenas of their own (up to 8 per core), each grown to the largest request bodies it
    # served: RSS climbs with the number of threads that ever ran, then levels off. One arena makes a leak show.
    if os.environ.get("MALLOC_ARENA_MAX") is None:
        os.environ["MALLOC_ARENA_MAX"] = "1"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--plugin-dir")
    parser.add_argument("--asks", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rss-limit", type=float, default=10,
                        help="percent RSS may grow after the warm-up; negative: report only (short runs, sanitizers)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    # A temporary directory of the run's own, so that what other programs leave in /tmp meanwhile is not counted.
    private_temp = work / "tmp"
    private_temp.mkdir()
    os.environ["TMPDIR"] = str(private_temp)
    tempfile.tempdir = str(private_temp)
    try:
        code = Soak(args.emulator, args.plugin_dir, work).run(args.asks, args.threads, args.rss_limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
