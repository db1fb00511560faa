#!/usr/bin/env python3
"""Frame sampling benchmark: 32 frames spread over a 10-minute 1080p30 H.264 video (x264 veryfast CRF 23,
OBS's default encoding; a keyframe every
250 frames), taken by jarvis-vision's frame_slicer (exact and keyframe seeking) and by PyAV 10 from Debian, seeking
per frame and decoding every frame while keeping 32. Methods alternate within each round; the report gives median
wall times, their ratios, and each process's peak memory (max RSS).

A second, 1-minute video with the same encoding shows whether a method's cost follows the frames taken or the
video's length.

Usage: bench/frame_sampling_bench.py [--host build/release/bin/jarvis-host] [--rounds 3] [--work DIR]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FRAMES = 32


def make_video(path, seconds):
    if os.path.exists(path):
        return
    print(f"generating {path} ({seconds} s of 1080p30, keyframe every 250 frames) ...", file=sys.stderr, flush=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1920x1080:rate=30:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                    "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p",
                    path + ".part.mp4"], check=True)
    os.rename(path + ".part.mp4", path)


def run(argv):
    """Runs one measurement in its own process: (wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024


PYAV_CODE = r'''
import av, sys
path, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with av.open(path) as container:
    stream = container.streams.video[0]
    duration = float(stream.duration * stream.time_base)
    times = [duration * k / count for k in range(count)]
    kept = []
    if mode == "seek":
        for t in times:
            container.seek(int(t / stream.time_base), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.time >= t - 1e-6:
                    kept.append(frame.time)
                    break
    else:  # decode every frame, keep the one on screen at each time
        i = 0
        for frame in container.decode(stream):
            while i < count and frame.time >= times[i] - 1e-6:
                kept.append(frame.time)
                i += 1
    assert len(kept) == count, len(kept)
'''


def methods(host, video):
    loadout = f"vllm://m#max_frames={FRAMES}"
    ours = [host, "--loadout", loadout, "plan", "--video", video, "--prompt", "x", "--json"]
    keyframe = [host, "--loadout", loadout + "#seek=keyframe", "plan", "--video", video, "--prompt", "x", "--json"]
    return {
        "jarvis exact": ours,
        "jarvis keyframe": keyframe,
        "PyAV seek per frame": ["/usr/bin/python3", "-c", PYAV_CODE, video, "seek", str(FRAMES)],
        "PyAV decode all": ["/usr/bin/python3", "-c", PYAV_CODE, video, "all", str(FRAMES)],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="build/release/bin/jarvis-host")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default="build/bench")
    parser.add_argument("--skip-full-decode-after", type=int, default=1,
                        help="rounds of 'PyAV decode all' on the long video (each takes minutes)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    long_video = os.path.join(args.work, "1080p30_10min_gop250_veryfast.mp4")
    short_video = os.path.join(args.work, "1080p30_1min_gop250_veryfast.mp4")
    make_video(long_video, 600)
    make_video(short_video, 60)

    # Check the two ways of sampling agree on what they take, once.
    plan = json.loads(subprocess.run(methods(args.host, long_video)["jarvis exact"], capture_output=True, check=True).stdout)
    print(f"jarvis exact takes {len(plan['media']['frames'])} frames at "
          f"{plan['media']['frames'][0]['width']}x{plan['media']['frames'][0]['height']}", file=sys.stderr)

    results = {}
    for round_number in range(args.rounds):
        for video_name, video in (("10 min", long_video), ("1 min", short_video)):
            for name, argv in methods(args.host, video).items():
                if name == "PyAV decode all" and video == long_video and round_number >= args.skip_full_decode_after:
                    continue
                wall, rss = run(argv)
                results.setdefault((name, video_name), []).append((wall, rss))
                print(f"round {round_number + 1}: {name:22} {video_name:6} {wall:7.2f} s {rss:7.1f} MB", file=sys.stderr, flush=True)

    def median(name, video_name):
        samples = results[(name, video_name)]
        return statistics.median(w for w, _ in samples), max(r for _, r in samples)

    exact_long, _ = median("jarvis exact", "10 min")
    print(f"\n{FRAMES} frames of a 10-minute 1080p30 H.264 video (keyframe every 250 frames); median of {args.rounds} rounds\n")
    print("| method | 10 min video | 1 min video | peak memory | time vs jarvis exact |")
    print("|---|---|---|---|---|")
    for name in ("jarvis exact", "jarvis keyframe", "PyAV seek per frame", "PyAV decode all"):
        long_wall, long_rss = median(name, "10 min")
        short_wall, short_rss = median(name, "1 min")
        print(f"| {name} | {long_wall:.2f} s | {short_wall:.2f} s | {max(long_rss, short_rss):.0f} MB | "
              f"{long_wall / exact_long:.2f}x |")
    seek_long, _ = median("PyAV seek per frame", "10 min")
    keyframe_long, _ = median("jarvis keyframe", "10 min")
    print(f"\nexact is {seek_long / exact_long:.1f}x faster than PyAV seeking per frame (target 3x); "
          f"keyframe is {seek_long / keyframe_long:.1f}x faster (target 20x)")


if __name__ == "__main__":
    main()
