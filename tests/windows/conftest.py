"""The Windows suite's fixtures: Wine with a prefix of its own, the Windows distribution, real videos made by the
Linux ffmpeg (Linux programs started from Wine give no output), the Linux-built vlm-emulator on loopback, and the
Linux jarvis-host to compare with."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

DIST = Path(os.environ["JARVIS_WINDOWS_DIST"])
LINUX_HOST = os.environ["JARVIS_TEST_HOST"]
EMULATOR = os.environ["JARVIS_TEST_EMULATOR"]
PREFIX = Path(os.environ["WINEPREFIX"])
MODEL = "QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"
WINDOWS_HOST = DIST / "bin" / "jarvis-host.exe"


def windows_path(path: Path) -> str:
    """The path as a Windows program sees it: Wine maps / to drive Z:, and its own C: to the prefix's drive_c."""
    resolved = path.resolve()
    drive_c = (PREFIX / "drive_c").resolve()
    if resolved == drive_c or drive_c in resolved.parents:
        return "C:\\" + str(resolved.relative_to(drive_c)).replace("/", "\\")
    return "Z:" + str(resolved).replace("/", "\\")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def wine_run(program: Path, *args: str, timeout: float = 300) -> Run:
    """A Windows program under Wine; Wine passes the program's exit code through. A start Wine itself failed is
    retried (twice at most), with a warning that names it."""
    for attempt in range(3):
        done = subprocess.run(["wine", str(program), *args], capture_output=True, timeout=timeout)
        run = Run(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))
        if not wine_failed_to_start(run, program.stem) or attempt == 2:
            return run
        warnings.warn(f"Wine failed to start {program.name} {' '.join(args[:2])} (exit 1, stderr {run.stderr.strip()!r}); "
                      "started again")
    raise AssertionError("unreachable")


def wine_host(*args: str, timeout: float = 300) -> Run:
    """jarvis-host.exe under Wine."""
    return wine_run(WINDOWS_HOST, *args, timeout=timeout)


# Wine's loader sometimes cannot map the page it shares with the wineserver at its fixed address (ntdll's virtual.c)
# and then exits with 1 before the program runs, saying so only on its "err" channel for virtual memory, which
# run_tests.sh turns on. jarvis-host says why on stderr whenever it ends with 1, so an exit 1 with neither its words
# nor output is Wine's, not the program's (the suite's programs name themselves on stderr whenever they end with 1).
# A crash in the program is not this: Wine says so, with another code.
WINE_START_FAILURES = ("failed to map the shared user data", "failed to open the USD section",
                       "failed to remap the process USD")


def wine_failed_to_start(run: Run, program_name: str = "jarvis-host") -> bool:
    if run.code != 1 or run.stdout or program_name in run.stderr:
        return False
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    return all(any(failure in line for failure in WINE_START_FAILURES) for line in lines)


def linux_host(*args: str, timeout: float = 300) -> Run:
    done = subprocess.run([LINUX_HOST, *args], capture_output=True, timeout=timeout)
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


def plan(run: Callable[..., Run], video: str, loadout: str | None = None) -> dict:
    """A plan document of jarvis-host (`run` is linux_host or wine_host) about `video`."""
    args = ([] if loadout is None else ["--loadout", loadout]) + ["plan", "--video", video, "--prompt", "what happens?",
                                                                  "--json"]
    result = run(*args)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def frame_times(document: dict) -> list[tuple[float, int, int]]:
    return [(f["pts_s"], f["width"], f["height"]) for f in document["media"]["frames"]]


@pytest.fixture(scope="session", autouse=True)
def wine() -> Iterator[None]:
    # Wine's background processes (wineserver, services, winedevice) inherit the pipes of the command that starts
    # them and keep them open for good: a test capturing a program's output would wait forever. So they are started
    # here first, by a command whose output goes nowhere, and later commands find them running. (The first start of
    # a prefix also creates it, which takes a while.)
    PREFIX.mkdir(parents=True, exist_ok=True)
    quietly("wineserver", "-p")
    quietly("wine", "cmd", "/c", "exit")
    yield
    quietly("wineserver", "-k", check=False)


def quietly(*command: str, check: bool = True) -> None:
    subprocess.run(command, check=check, timeout=600, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_video(path: Path, *args: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(path)], check=True)
    return path


def heif_picture(path: Path, *args: str) -> Path:
    """A HEIF picture as libheif writes it (one item, no movie box), of a 640x384 test pattern."""
    png = make_video(path.with_suffix(".source.png"), "-f", "lavfi", "-i", "testsrc2=size=640x384", "-frames:v", "1")
    subprocess.run(["heif-enc", *args, "-q", "90", str(png), "-o", str(path)], check=True, stdout=subprocess.DEVNULL)
    return path


SOURCE = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
KEYFRAME_EVERY_SECOND = ["-g", "25"]


def rotate_mp4(path: Path) -> Path:
    """Gives an MP4's video track a 90-degree clockwise display matrix, as phones record (this FFmpeg's command line
    cannot write one): the matrix sits in the tkhd box after its version, times, ids, duration and reserved fields."""
    data = bytearray(path.read_bytes())
    tkhd = data.index(b"tkhd")
    version = data[tkhd + 4]
    matrix = tkhd + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    one = 0x10000
    for offset, value in ((0, 0), (4, one), (12, -one), (16, 0)):
        data[matrix + offset:matrix + offset + 4] = value.to_bytes(4, "big", signed=True)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The kinds of video users have, made on the Linux side."""
    folder = tmp_path_factory.mktemp("videos")
    return {
        "h264_bframes": make_video(folder / "h264.mp4", *SOURCE, "-t", "3", "-c:v", "libx264", "-bf", "3",
                                   *KEYFRAME_EVERY_SECOND),
        "hevc_10bit": make_video(folder / "hevc10.mkv", *SOURCE, "-t", "3", "-c:v", "libx265", "-pix_fmt", "yuv420p10le",
                                 "-x265-params", "log-level=error", *KEYFRAME_EVERY_SECOND),
        "vp9": make_video(folder / "vp9.webm", *SOURCE, "-t", "3", "-c:v", "libvpx-vp9", "-deadline", "realtime",
                          "-cpu-used", "8", *KEYFRAME_EVERY_SECOND),
        "vfr": make_video(folder / "vfr.mp4", "-f", "lavfi", "-i",
                          "testsrc2=size=320x240:rate=30,setpts='if(lt(T,1.5),PTS,1.5/TB+(PTS-1.5/TB)*3)'", "-t", "3",
                          "-fps_mode", "vfr", "-c:v", "libx264", "-bf", "2", *KEYFRAME_EVERY_SECOND),
        "rotated": rotate_mp4(make_video(folder / "rotated.mp4", *SOURCE, "-t", "3", "-c:v", "libx264",
                                         *KEYFRAME_EVERY_SECOND)),
        # OBS records AV1 with the NVENC of RTX 40 and 50 cards; this build decodes it with dav1d.
        "av1": make_video(folder / "av1.mkv", *SOURCE, "-t", "3", "-c:v", "libaom-av1", "-cpu-used", "8",
                          *KEYFRAME_EVERY_SECOND),
        # Lossless screen recordings; also a cover picture's codec.
        "png": make_video(folder / "png.mkv", *SOURCE, "-t", "2", "-c:v", "png"),
        # What phones record: HLG, tone mapped on the way to JPEG.
        "hdr_hlg": make_video(folder / "hlg.mp4", *SOURCE, "-t", "3", "-c:v", "libx265", "-pix_fmt", "yuv420p10le",
                              "-x265-params", "log-level=error", "-color_primaries", "bt2020", "-color_trc", "arib-std-b67",
                              "-colorspace", "bt2020nc", *KEYFRAME_EVERY_SECOND),
        # Photos handed over as videos: FFmpeg's image2 demuxer reads them (this build has no jpeg_pipe or png_pipe).
        "photo_jpg": make_video(folder / "photo.jpg", "-f", "lavfi", "-i", "testsrc2=size=640x384,noise=alls=10:allf=t",
                                "-frames:v", "1"),
        "photo_png": make_video(folder / "photo.png", "-f", "lavfi", "-i", "testsrc2=size=640x384", "-frames:v", "1"),
        # As browsers save pictures.
        "photo_webp": make_video(folder / "photo.webp", "-f", "lavfi", "-i", "testsrc2=size=640x384", "-frames:v", "1",
                                 "-c:v", "libwebp"),
        "animated_webp": make_video(folder / "animated.webp", *SOURCE, "-t", "1", "-c:v", "libwebp", "-loop", "0"),
        # As phones save photos (HEIC: refused, named) and as browsers and phones save AVIF (read).
        "heic": heif_picture(folder / "photo.heic"),
        "photo_avif": heif_picture(folder / "photo.avif", "--avif"),
        # What ScreenToGif and ShareX record: each frame stores only what changed since the one before (one keyframe).
        "gif": make_video(folder / "screen.gif", *SOURCE, "-t", "3", "-c:v", "gif", "-gifflags", "+offsetting+transdiff"),
        # As older Windows tools saved video (WMV 8 in ASF: the WMV 9 and VC-1 decoders come along, FFmpeg has no
        # encoder for them).
        "wmv": make_video(folder / "old.wmv", *SOURCE, "-t", "3", "-c:v", "wmv2", "-b:v", "600k", *KEYFRAME_EVERY_SECOND),
    }


class Emulator:
    """The Linux vlm-emulator on loopback; Windows programs under Wine reach it at 127.0.0.1, and it reaches their
    servers there too."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([EMULATOR, "--port", "0", "--host", "127.0.0.1", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stderr is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"the emulator did not start: {line!r}"
        self.base_url = match.group(1) + "/v1"
        self._log: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()

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
        """Blocks until the emulator has written a line containing `text`, or fails."""
        with self._changed:
            if not self._changed.wait_for(lambda: text in "".join(self._log), timeout):
                raise AssertionError(f"the emulator never said {text!r}; it said: {''.join(self._log)}")
            return "".join(self._log)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    e = Emulator()
    yield e
    e.stop()


@pytest.fixture
def drive_c_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh folder on Wine's C: drive (the prefix's drive_c), removed afterwards."""
    folder = PREFIX / "drive_c" / "jarvis-tests" / re.sub(r"\W", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
