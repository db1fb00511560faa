"""What the Python benchmarks share: test videos made once by ffmpeg, and the vlm-emulator on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def make_video(path: Path, *args: str) -> Path:
    """The video at `path`, encoded by ffmpeg with `args` unless an earlier run left it there."""
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(path) + ".part.mp4"], check=True)
        os.rename(str(path) + ".part.mp4", path)
    return path


class Emulator:
    """bin/vlm-emulator on a free port, with the time and size of each chat request it received."""

    def __init__(self, binary: Path, *args: str) -> None:
        self.process = subprocess.Popen([str(binary), "--port", "0", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stderr is not None
        match = re.search(r"listening on (http://\S+)", self.process.stdout.readline())
        assert match, "the emulator did not start"
        self.base_url = match.group(1) + "/v1"
        self.received: list[tuple[float, int]] = []
        self.reports: list[dict[str, Any]] = []  # what each request's media cost the server, and its shared prefix
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            match = re.search(r"chat request \d+ received \((\d+) bytes\)", line)
            report = re.search(r"chat request \d+ report (\{.*\})", line)
            with self._lock:
                if match:
                    self.received.append((time.monotonic(), int(match.group(1))))
                if report:
                    self.reports.append(json.loads(report.group(1)))

    def last_request(self) -> tuple[float, int]:
        """When the last chat request had arrived whole, and its size in bytes."""
        with self._lock:
            return self.received[-1]

    def last_report(self) -> dict[str, Any]:
        """The report of the last request answered (written before its answer, so there by the time ask returns
        but for the log pipe's delay)."""
        for _ in range(200):
            with self._lock:
                if len(self.reports) == len(self.received):
                    return self.reports[-1]
            time.sleep(0.01)
        raise AssertionError("the emulator wrote no report for its last request")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
