"""Frame decoding's peak memory on machines with more cores than this one, with and without the decoders' budget.

Each decoder holds its own reference pictures, so peak memory follows the number of decoders at once. The plugins
start one per core while `frames.decode_memory_mb` (default 512) holds them. Here `jarvis-host plan` with
delivery=frames runs with the core count it sees raised by a preloaded get_nprocs (bench/fake_cores.c), so that it
starts as many decoders as such a machine would (the work itself runs on this machine's cores: the times are not a
larger machine's). The reference, in the same run: the budget lifted (1 TB), which is how decoding ran before it.

Clips: 2 minutes of 1080p HEVC (long_video_bench.py's) and 6 seconds of 4K HEVC 10-bit (a phone's HDR video).

Usage: /usr/bin/python3 bench/decode_memory_bench.py [--build build/release] [--work build/bench] [--cores 2 8 16]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import make_video  # noqa: E402

MODEL = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#delivery=frames"


def peak(host: str, shim: Path, cores: int, config: Path, video: Path) -> tuple[float, str, float]:
    """(peak RSS MB, the decoders the debug log reports, wall s) of one plan in its own process."""
    env = {**os.environ, "LD_PRELOAD": str(shim), "FAKE_CORES": str(cores)}
    process = subprocess.Popen([host, "--config", str(config), "--log-level", "debug", "--endpoint", "http://127.0.0.1:9/v1",
                                "--loadout", MODEL, "plan", "--video", str(video), "--prompt", "x", "--json"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert process.stderr is not None
    log = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"jarvis-host failed on {video}: {log[-2000:]}")
    decoders = re.search(r"(\d+ decoders x \d+ threads)", log)
    return usage.ru_maxrss / 1024, decoders.group(1) if decoders else "?", usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--work", default="build/bench")
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 8, 16])
    args = parser.parse_args()
    host = str(Path(args.build) / "bin" / "jarvis-host")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    shim = work / "fake_cores.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(shim), str(Path(__file__).resolve().parent / "fake_cores.c")], check=True)

    clips = {
        "2 min 1080p HEVC": make_video(work / "1080p30_2min_hevc_rotated.mp4", "-f", "lavfi", "-i",
                                       "testsrc2=size=1920x1080:rate=30:duration=120", "-c:v", "libx265", "-preset", "ultrafast",
                                       "-x265-params", "log-level=error:keyint=60", "-tag:v", "hvc1", "-metadata:s:v", "rotate=90"),
        "6 s 4K HEVC 10-bit": make_video(work / "2160p30_6s_hevc10.mp4", "-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=30:duration=6",
                                         "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                                         "log-level=error:keyint=30", "-tag:v", "hvc1"),
    }
    budgets = {"no budget (before)": 1024 * 1024, "default (512 MB)": None, "96 MB": 96}
    configs = {}
    for name, mb in budgets.items():
        configs[name] = work / f"decode_memory_{mb or 'default'}.json"
        configs[name].write_text(json.dumps({"frames": {"decode_memory_mb": mb}} if mb else {}))

    print("| clip | cores seen | budget | decoders | peak memory | CPU time |")
    print("|---|---|---|---|---|---|")
    for clip, video in clips.items():
        for cores in args.cores:
            for budget, config in configs.items():
                rss, decoders, cpu = peak(host, shim, cores, config, video.resolve())
                print(f"| {clip} | {cores} | {budget} | {decoders} | {rss:.0f} MB | {cpu:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
