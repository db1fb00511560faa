"""Fixtures: real videos made by ffmpeg, the real vlm-emulator on loopback, the package as installed in the venv."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

EMULATOR = os.environ["JARVIS_TEST_EMULATOR"]
HOST = os.environ["JARVIS_TEST_HOST"]
PLUGIN_DIR = Path(os.environ["JARVIS_TEST_PLUGIN_DIR"])
FIXTURE_PLUGIN_DIR = Path(os.environ["JARVIS_TEST_FIXTURE_PLUGIN_DIR"])
SOURCE_DIR = Path(os.environ["JARVIS_TEST_SOURCE_DIR"])
MODEL = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"


def make_video(path: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "clip": make_video(folder / "clip.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
                           "-c:v", "libx264", "-bf", "2"),
        # Long enough that decoding it takes a while: for cancellation and the event loop's responsiveness.
        "long": make_video(folder / "long clip ąę.mp4", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "40",
                           "-c:v", "libx264", "-preset", "ultrafast", "-g", "600"),
    }


class Emulator:
    """bin/vlm-emulator on a free loopback port; its stderr is collected so tests can wait for what it saw."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([EMULATOR, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None and self.process.stderr is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"the emulator did not start: {line!r} {self.process.stderr.read()}"
        self.root_url = match.group(1)
        self.base_url = self.root_url + "/v1"
        self._log: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: "subprocess.IO[str]") -> None:  # type: ignore[name-defined]
        for line in stream:
            with self._changed:
                self._log.append(line)
                self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self._log)

    def wait_for_log(self, text: str, timeout: float = 60) -> str:
        """Blocks until the emulator has written a line containing `text` (what it saw), or fails."""
        with self._changed:
            if not self._changed.wait_for(lambda: text in "".join(self._log), timeout):
                raise AssertionError(f"the emulator never said {text!r}; it said: {''.join(self._log)}")
            return "".join(self._log)

    def config(self, **extra: object) -> dict[str, object]:
        return {"endpoint": {"base_url": self.base_url, "timeout_s": 60}, **extra}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(*args: str) -> Emulator:
        emulator = Emulator(*args)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator()


def no_call_threads_left(timeout: float = 10) -> bool:
    """True once no thread of the package's async calls is alive (they end when their plugin call returns)."""
    deadline = time.monotonic() + timeout
    while True:
        if not [t for t in threading.enumerate() if t.name.startswith("jarvis-vision")]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
