"""Long videos: how soon each delivery gets the frames to the model, against vLLM's own video loading.

vLLM's qwen3_vl loader (over its default OpenCV backend) computes the frames it samples, then grab()s every frame up to
the last one and retrieve()s the sampled ones. That loop, run here with Debian's OpenCV (the same FFmpeg decoder), is
what the pointer deliveries (file, http, data) cost on the server. Against it, in the same run: `jarvis-host ask` with
delivery=auto, file and frames (sent while decoding, and for comparison with its body sent once whole), and
frame_slicer's images (the same two ways), timed from start until the request has arrived whole at a sink server on
loopback. `--link-mb-per-s` makes the sink read no faster than a network link would carry (a server on another machine),
where sending while decoding hides the upload; `--deliveries` runs some of them only (and the OpenCV loop).
Each in its own process; before each, the video's pages are dropped from the page cache (posix_fadvise), so that the
bytes read from disk (the process's block input) are a cold read.

Clips: 10 minutes of 1080p30 H.264 (x264 veryfast, a keyframe every 250 frames), 2 minutes of 1080p HEVC with a
rotation flag (a phone clip), 10 seconds of 1080p H.264.

Targets (issue "Long videos"): on the 10-minute clip auto has the request at the server at least 5x sooner than the
file path's server-side loading takes; on the 10-second clip auto is at most 100 ms slower than the fastest delivery;
exact mode asked for 8 frames of the 10-minute clip reads under 30% of the file; peak memory under 150 MB.

Usage: /usr/bin/python3 bench/long_video_bench.py [--build build/release] [--work build/bench] [--rounds 1]
           [--link-mb-per-s MB] [--deliveries images "images, body sent whole"] [--hardware-decode auto]
`--hardware-decode` decodes our frames on the machine's GPU (frames.hardware_decode), the way left to the 5x target for
exact frames on the 10-minute clip (not run here: this machine has no GPU).
Needs python3-opencv (scripts/setup.sh bench).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import make_video  # noqa: E402

ANSWER = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                     "usage": {}}).encode()

# vLLM's qwen3_vl loader: fps 2, 4 to 768 frames spread evenly (linspace), then every frame up to the last is grabbed.
OPENCV_LOOP = r'''
import sys, cv2, numpy as np
path = sys.argv[1]
cap = cv2.VideoCapture(path)
total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
fps = cap.get(cv2.CAP_PROP_FPS)
count = int(min(768, max(4, total / fps * 2)))
wanted = set(np.linspace(0, total - 1, count).round().astype(int).tolist())
last = max(wanted)
kept = 0
for i in range(last + 1):
    if not cap.grab():
        break
    if i in wanted:
        ok, frame = cap.retrieve()
        kept += ok
print(kept, last + 1)
'''


class Sink:
    """A chat endpoint on loopback that notes when each request body has arrived whole."""

    def __init__(self, link_mb_per_s: float | None = None) -> None:
        self.arrivals: list[tuple[float, int]] = []
        sink = self
        link_rate = link_mb_per_s * 1e6 if link_mb_per_s else None

        class Link:
            """A network link's pace: bytes read off loopback are taken to arrive once the link, busy with those
            before them or idle until they were written, has carried them."""

            def __init__(self) -> None:
                self.free_at = 0.0

            def carried(self, size: int) -> None:
                if link_rate is None or size == 0:
                    return
                self.free_at = max(self.free_at, time.monotonic()) + size / link_rate
                time.sleep(max(0.0, self.free_at - time.monotonic()))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = self.read_chunked() if self.headers.get("Transfer-Encoding", "").lower() == "chunked" else self.read_sized()
                sink.arrivals.append((time.monotonic(), length))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(ANSWER)))
                self.end_headers()
                self.wfile.write(ANSWER)

            def read_sized(self) -> int:
                length = int(self.headers.get("Content-Length", "0"))
                remaining = length
                link = Link()
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    link.carried(len(chunk))
                return length

            def read_chunked(self) -> int:
                """A body sent while it is written (frames as they are decoded): its chunks until the empty one."""
                length = 0
                link = Link()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    remaining = size
                    while remaining > 0:
                        got = len(self.rfile.read(min(remaining, 1 << 16)))
                        if got == 0:
                            return length
                        remaining -= got
                        link.carried(got)
                    self.rfile.read(2)  # the chunk's CRLF
                    if size == 0:
                        return length
                    length += size

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


class CountingFileServer:
    """Serves one file by Range requests, as a web server does, and counts the bytes it sends. A small send buffer
    keeps what is in flight when a client closes a connection to seek elsewhere small."""

    def __init__(self, path: Path) -> None:
        self.sent = 0
        data = path.read_bytes()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
                super().setup()

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                start, end = 0, len(data) - 1
                ranged = self.headers.get("Range", "").startswith("bytes=")
                if ranged:
                    first, _, last = self.headers["Range"][len("bytes="):].partition("-")
                    start, end = int(first), int(last) if last else len(data) - 1
                self.send_response(206 if ranged else 200)
                if ranged:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start + 1))
                self.end_headers()
                try:
                    for offset in range(start, end + 1, 1 << 16):
                        chunk = data[offset:min(offset + (1 << 16), end + 1)]
                        self.wfile.write(chunk)
                        counter.sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.size = len(data)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{path.name}"


def drop_from_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measured(argv: list[str], video: Path) -> tuple[float, float, float, str, float]:
    """One process started with the video out of the page cache: (wall s, peak RSS MB, MB read from disk, stdout,
    start time)."""
    drop_from_cache(video)
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({process.returncode}): {err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, usage.ru_inblock * 512 / 1e6, out.decode(), start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--work", default="build/bench")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--link-mb-per-s", type=float, default=None)
    parser.add_argument("--deliveries", nargs="+", default=None, help="the names of the rows to run (default: all)")
    parser.add_argument("--hardware-decode", default=None,
                        help="frames.hardware_decode for our deliveries (auto, d3d11va, cuda, ...): on a machine with a GPU")
    args = parser.parse_args()
    host = str(Path(args.build) / "bin" / "jarvis-host")
    work = Path(args.work)
    volume = work  # the shared volume of the file delivery; the 10-minute clip is frame_sampling_bench.py's too
    volume.mkdir(parents=True, exist_ok=True)

    x264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "250", "-keyint_min", "250", "-sc_threshold", "0",
            "-bf", "2", "-pix_fmt", "yuv420p"]
    clips = {
        "10 min 1080p H.264": make_video(volume / "1080p30_10min_gop250_veryfast.mp4", "-f", "lavfi", "-i",
                                         "testsrc2=size=1920x1080:rate=30:duration=600", *x264),
        "2 min 1080p HEVC, rotated": make_video(volume / "1080p30_2min_hevc_rotated.mp4", "-f", "lavfi", "-i",
                                                "testsrc2=size=1920x1080:rate=30:duration=120", "-c:v", "libx265",
                                                "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=60",
                                                "-tag:v", "hvc1", "-metadata:s:v", "rotate=90"),
        "10 s 1080p H.264": make_video(volume / "1080p30_10s_gop250_veryfast.mp4", "-f", "lavfi", "-i",
                                       "testsrc2=size=1920x1080:rate=30:duration=10", *x264),
    }
    sink = Sink(args.link_mb_per_s)
    config = work / "long_video_bench.json"
    settings = {"endpoint": {"base_url": sink.base_url}, "input_data": {"host_path": str(volume.resolve()), "container_path": "/data"}}
    gpu = {"hardware_decode": args.hardware_decode} if args.hardware_decode else {}
    if gpu:
        settings["frames"] = gpu
    config.write_text(json.dumps(settings))
    # The frames delivery as it was before its request went out while decoding: the body sent once it is whole.
    whole_body_config = work / "long_video_bench_whole_body.json"
    whole_body_config.write_text(json.dumps({**settings, "frames": {**gpu, "send_while_decoding": False}}))
    slicer = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"
    model = slicer + "#nativevideo"
    # auto at fps 0.1: a sparse sampling (60 frames of 10 minutes), where vLLM's loader still decodes nearly every frame.
    deliveries = {"auto": (model, config), "file": (model + "#delivery=file", config), "frames": (model + "#delivery=frames", config),
                  "frames, body sent whole": (model + "#delivery=frames", whole_body_config), "auto, fps=0.1": (model + "#fps=0.1", config),
                  "images": (slicer, config), "images, body sent whole": (slicer, whole_body_config)}
    if args.deliveries:
        wanted = args.deliveries
        unknown = [name for name in wanted if name not in deliveries]
        if unknown:
            raise SystemExit(f"unknown deliveries {unknown}; choose from {list(deliveries)}")
        deliveries = {name: deliveries[name] for name in wanted}

    rows = []
    exact8 = None
    exact8_mkv = None
    for name, video in clips.items():
        size_mb = video.stat().st_size / 1e6
        loop = [measured(["/usr/bin/python3", "-c", OPENCV_LOOP, str(video)], video) for _ in range(args.rounds)]
        server_s = statistics.median(r[0] for r in loop)
        decoded = loop[0][3].split()[1]
        results = {}
        for delivery, (loadout, delivery_config) in deliveries.items():
            runs = []
            for _ in range(args.rounds):
                before = len(sink.arrivals)
                wall, rss, disk_mb, out, start = measured(
                    [host, "--config", str(delivery_config), "--loadout", loadout, "ask", "--video", str(video.resolve()),
                     "--prompt", "What happens?", "--json"], video)
                arrived, body = sink.arrivals[before]
                runs.append((arrived - start, rss, disk_mb, body, json.loads(out)["media"]["delivery"]))
            at_server = statistics.median(r[0] for r in runs)
            # The pointer deliveries' frames are at the model once the server's loader has decoded them.
            frames_ready = at_server + (server_s if runs[0][4] in ("file", "http", "data") else 0.0)
            results[delivery] = (frames_ready, runs[0][4], max(r[1] for r in runs), statistics.median(r[2] for r in runs),
                                 runs[0][3] / 1e6)
        rows.append((name, size_mb, server_s, decoded, results))
        if name.startswith("10 min") and not args.deliveries:
            _, rss8, disk8, _, _ = measured([host, "--config", str(config), "--loadout", model + "#delivery=frames#max_frames=8",
                                             "plan", "--video", str(video.resolve()), "--prompt", "x", "--json"], video)
            exact8 = (disk8, size_mb, rss8)
            # The same clip as Matroska (OBS's recordings): its cues, not a scan, find the intervals.
            mkv = make_video(volume / "1080p30_10min_gop250_veryfast.mkv", "-i", str(video), "-c", "copy", "-f", "matroska")
            _, _, disk8_mkv, _, _ = measured([host, "--config", str(config), "--loadout", model + "#delivery=frames#max_frames=8",
                                              "plan", "--video", str(mkv.resolve()), "--prompt", "x", "--json"], mkv)
            exact8_mkv = (disk8_mkv, mkv.stat().st_size / 1e6)

    # Over HTTP, a frame_slicer plan that needs the whole file (120 frames of the 2-minute clip): the bytes sent.
    over_http = []
    for name, video in clips.items():
        if name.startswith("2 min") and not args.deliveries:
            served = CountingFileServer(video)
            for loadout in ("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#max_frames=120",
                            "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#max_frames=8"):
                served.sent = 0
                started = time.monotonic()
                subprocess.run([host, "--config", str(config), "--loadout", loadout, "plan", "--video", served.url, "--prompt", "x",
                                "--json"], check=True, stdout=subprocess.DEVNULL)
                over_http.append((name, loadout.split("#")[-1], served.sent / served.size, time.monotonic() - started))
            served.server.shutdown()

    print("| clip | vLLM's loader (OpenCV, frames decoded) | delivery | chosen | frames at the model | peak memory | read from disk | request body |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size_mb, server_s, decoded, results in rows:
        for delivery, (ready, chosen, rss, disk_mb, body_mb) in results.items():
            print(f"| {name} ({size_mb:.0f} MB) | {server_s:.2f} s ({decoded}) | {delivery} | {chosen} | {ready:.2f} s | "
                  f"{rss:.0f} MB | {disk_mb:.1f} MB | {body_mb:.2f} MB |")
    link = f" over a {args.link_mb_per_s:g} MB/s link" if args.link_mb_per_s else ""
    for name, _, _, _, results in rows:
        for streamed in ("frames", "images"):
            if streamed in results and f"{streamed}, body sent whole" in results:
                print(f"{name}: {streamed} sent while decoding reach the server{link} "
                      f"{(results[f'{streamed}, body sent whole'][0] - results[streamed][0]) * 1000:.0f} ms sooner than the body sent whole")
    for name, _, server_s, _, results in rows:
        if not all(d in results for d in ("auto", "file", "frames", "auto, fps=0.1")):
            continue
        fastest = min(r[0] for d, r in results.items() if "fps" not in d and "whole" not in d and "images" not in d)
        print(f"{name}: auto ({results['auto'][1]}) {results['file'][0] / results['auto'][0]:.1f}x sooner than the file path; "
              f"{(results['auto'][0] - fastest) * 1000:.0f} ms behind the fastest delivery; at fps=0.1 "
              f"({results['auto, fps=0.1'][1]}) {server_s / results['auto, fps=0.1'][0]:.1f}x sooner than the server's loading")
    if exact8:
        disk8, size_mb, rss8 = exact8
        print(f"exact mode, 8 frames of the 10-minute clip: read {disk8:.1f} MB of {size_mb:.0f} MB "
              f"({100 * disk8 / size_mb:.0f}%) from a cold cache, peak {rss8:.0f} MB")
    if exact8_mkv:
        print(f"exact mode, 8 frames of the 10-minute clip as Matroska: read {exact8_mkv[0]:.1f} MB of {exact8_mkv[1]:.0f} MB "
              f"({100 * exact8_mkv[0] / exact8_mkv[1]:.0f}%) from a cold cache")
    for name, frames, share, seconds in over_http:
        print(f"over HTTP, frame_slicer, {frames} of the {name} clip: {share:.2f}x the file sent, {seconds:.1f} s")


if __name__ == "__main__":
    main()
