"""The Windows build under Wine: jarvis-host.exe and the plugin DLLs from build/windows/dist, driven like a Windows
user would, against the Linux-built emulator and compared with the Linux build."""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import (DIST, MODEL, PREFIX, WINDOWS_HOST, Emulator, Run, frame_times, linux_host, make_video, plan,
                      windows_path, wine_failed_to_start, wine_host)

NATIVE = f"vllm://{MODEL}#nativevideo"
PLUGINS = DIST / "lib" / "jarvis" / "plugins"


def exported_names(dll: Path) -> list[str]:
    """The names in a DLL's export table, read by binutils' PE reader."""
    dump = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", str(dll)], capture_output=True, text=True, check=True).stdout
    table = dump.split("[Ordinal/Name Pointer] Table", 1)
    if len(table) < 2:
        return []
    names = []
    for line in table[1].splitlines()[1:]:
        match = re.match(r"\s+\[\s*\d+\]\s+(\S+)", line)
        if not match:
            break
        names.append(match.group(1))
    return names


def sent_lumas(document: dict) -> list[bytes]:
    """The luma of every picture a frame_slicer plan's request carries, decoded by the Linux ffmpeg."""
    lumas = []
    for message in document["request"]["messages"]:
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part.get("type") == "image_url":
                jpeg = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                lumas.append(subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "image2pipe", "-i", "-", "-f", "rawvideo",
                                             "-pix_fmt", "gray", "-"], input=jpeg, capture_output=True, check=True).stdout)
    return lumas


def mean_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b) > 0
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


# --- the suite's own footing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("run, wine_failed", [
    (Run(1, "", ""), True),
    (Run(1, "", "0024:err:virtual:virtual_alloc_first_teb wine: failed to map the shared user data: c0000018\n"), True),
    (Run(1, "", "jarvis-host: internal error: bad allocation\n"), False),
    (Run(1, '{"error": {"exit_code": 1}}\n', ""), False),
    (Run(1, "", "0030:err:virtual:virtual_setup_exception stack overflow 96 bytes addr 0x1 stack 0x2\n"), False),
    (Run(5, "", "wine: Unhandled page fault on write access to 0000000000000000\n"), False),
    (Run(3, "", ""), False),
])
def test_only_a_start_wine_itself_failed_is_taken_for_one(run: Run, wine_failed: bool) -> None:
    assert wine_failed_to_start(run) == wine_failed


# --- loading -------------------------------------------------------------------------------------------------------

def test_both_plugins_load_from_their_dlls() -> None:
    result = wine_host("plugins", "--json")
    assert result.code == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["errors"] == []
    assert sorted(p["name"] for p in listing["plugins"]) == ["frame_slicer", "native_video"]
    assert all(p["path"].endswith(".dll") and p["abi"].startswith("1.") for p in listing["plugins"])


def test_each_plugin_exports_only_its_entry_point() -> None:
    for dll in sorted(PLUGINS.glob("*.dll")):
        assert exported_names(dll) == ["jarvis_vision_plugin"], dll.name


def test_broken_plugin_files_are_reported_and_the_good_ones_still_load(tmp_path: Path) -> None:
    for dll in PLUGINS.glob("*.dll"):
        shutil.copy(dll, tmp_path)
    (tmp_path / "garbage.dll").write_bytes(b"MZ this is not a library" * 100)
    (tmp_path / "empty.dll").write_bytes(b"")
    # A real DLL without the entry point: one of FFmpeg's.
    shutil.copy(DIST / "bin" / "swscale-6.dll", tmp_path / "not_a_plugin.dll")
    result = wine_host("--plugin-dir", windows_path(tmp_path), "plugins", "--json")
    assert result.code == 0, result.stderr
    listing = json.loads(result.stdout)
    assert sorted(p["name"] for p in listing["plugins"]) == ["frame_slicer", "native_video"]
    errors = {Path(e["path"].replace("\\", "/")).name: e["message"] for e in listing["errors"]}
    assert set(errors) == {"garbage.dll", "empty.dll", "not_a_plugin.dll"}
    assert "does not export jarvis_vision_plugin" in errors["not_a_plugin.dll"]
    assert errors["garbage.dll"].startswith("cannot load it")


# --- the same frames as on Linux -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["h264_bframes", "hevc_10bit", "vp9", "av1", "png", "vfr", "rotated", "hdr_hlg"])
@pytest.mark.parametrize("loadout", [None, NATIVE + "#delivery=frames", f"vllm://{MODEL}#fps=4#seek=keyframe"])
def test_plan_picks_the_same_frames_as_the_linux_build(videos: dict[str, Path], kind: str, loadout: str | None) -> None:
    linux = plan(linux_host, str(videos[kind]), loadout)
    windows = plan(wine_host, windows_path(videos[kind]), loadout)
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) >= 2
    assert windows["estimate"] == linux["estimate"]
    assert windows["media"]["width"] == linux["media"]["width"]
    assert windows["media"]["height"] == linux["media"]["height"]


@pytest.mark.parametrize("prompt", ["Co się stało? Zażółć gęślą jaźń, 12:45.", "视频里发生了什么？🎥",
                                    "e\u0301 decomposed: normalized by NormalizeString on Windows, libunistring on Linux"])
def test_prompt_tokens_are_counted_as_on_linux(videos: dict[str, Path], prompt: str) -> None:
    def estimate(run, video: str) -> dict:
        result = run("plan", "--video", video, "--prompt", prompt, "--json")
        assert result.code == 0, result.stderr
        return json.loads(result.stdout)["estimate"]
    windows = estimate(wine_host, windows_path(videos["h264_bframes"]))
    assert windows == estimate(linux_host, str(videos["h264_bframes"]))
    assert windows["prompt_tokens"] > windows["visual_tokens"]


@pytest.mark.parametrize("kind", ["gif", "wmv"])
@pytest.mark.parametrize("loadout", [None, NATIVE + "#delivery=frames"])
def test_screen_recorder_gifs_and_wmv_give_the_same_frames_as_on_linux(videos: dict[str, Path], kind: str,
                                                                       loadout: str | None) -> None:
    linux = plan(linux_host, str(videos[kind]), loadout)
    windows = plan(wine_host, windows_path(videos[kind]), loadout)
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) == 6  # 3 s at the default 2 fps
    assert windows["estimate"] == linux["estimate"]


@pytest.mark.parametrize("kind", ["gif", "wmv"])
def test_screen_recorder_gifs_and_wmv_show_the_pictures_the_linux_build_shows(videos: dict[str, Path], kind: str) -> None:
    # A GIF frame decoded without the ones before it would be mostly empty: the pictures, not only their times.
    linux = sent_lumas(plan(linux_host, str(videos[kind])))
    windows = sent_lumas(plan(wine_host, windows_path(videos[kind])))
    assert len(windows) == len(linux) == 6
    for w, l in zip(windows, linux):
        assert mean_difference(w, l) < 1.0
    assert len(set(windows)) == 6  # the pattern moves: six different pictures


@pytest.mark.parametrize("setting", ["d3d11va", "auto"])
def test_decoding_asked_of_a_gpu_wine_lacks_gives_the_pictures_decoded_in_software(videos: dict[str, Path], tmp_path: Path,
                                                                                   setting: str) -> None:
    # The Windows FFmpeg is built with Direct3D 11 decoding; Wine, without a display, opens no Direct3D device.
    config = tmp_path / "gpu.json"
    config.write_text(json.dumps({"frames": {"hardware_decode": setting}}))
    linux = plan(linux_host, str(videos["h264_bframes"]))
    windows = plan(lambda *args: wine_host("--config", windows_path(config), *args), windows_path(videos["h264_bframes"]))
    assert frame_times(windows) == frame_times(linux)
    for w, l in zip(sent_lumas(windows), sent_lumas(linux)):
        assert mean_difference(w, l) < 1.0
    told = [w for w in windows["warnings"] if "frames.hardware_decode" in w]
    if setting == "auto":
        assert told == []  # most machines have no such GPU: not worth a warning each time
    else:
        assert len(told) == 1 and "no GPU decoder could be opened (d3d11va: " in told[0], windows["warnings"]


@pytest.mark.parametrize("kind, named", [("animated_webp", "it is an animated WebP, which this FFmpeg cannot decode"),
                                         ("heic", "it is a HEIC picture (HEIF, as phones save photos), which this FFmpeg cannot read")])
def test_a_picture_ffmpeg_cannot_read_is_named_as_on_linux(videos: dict[str, Path], kind: str, named: str) -> None:
    linux = linux_host("plan", "--video", str(videos[kind]), "--prompt", "?")
    windows = wine_host("plan", "--video", windows_path(videos[kind]), "--prompt", "?")
    assert linux.code == windows.code == 3
    assert named in windows.stderr
    assert windows.stderr.replace("\r", "").split("':", 1)[1] == linux.stderr.split("':", 1)[1]


@pytest.mark.parametrize("kind", ["photo_jpg", "photo_png", "photo_webp", "photo_avif"])
def test_a_photo_is_its_one_frame_as_on_linux(videos: dict[str, Path], kind: str) -> None:
    linux = plan(linux_host, str(videos[kind]), None)
    windows = plan(wine_host, windows_path(videos[kind]), None)
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) == 1
    assert windows["media"]["width"] == 640


def test_rotation_is_applied(videos: dict[str, Path]) -> None:
    frames = frame_times(plan(wine_host, windows_path(videos["rotated"])))
    assert all(height > width for _, width, height in frames)


# --- asking the emulator on Linux ------------------------------------------------------------------------------------

def ask(emulator: Emulator, video: str, loadout: str, *extra: str) -> dict:
    result = wine_host("--endpoint", emulator.base_url, "--loadout", loadout, *extra, "ask", "--video", video, "--prompt",
                       "what happens?", "--json")
    assert result.code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def received_videos(answer: dict) -> list[dict]:
    """The emulator answers with what it decoded."""
    return json.loads(answer["answer"])["videos"]


@pytest.mark.parametrize("delivery", ["data", "frames"])
def test_ask_sends_the_video_inline(emulator: Emulator, videos: dict[str, Path], delivery: str) -> None:
    answer = ask(emulator, windows_path(videos["h264_bframes"]), f"{NATIVE}#delivery={delivery}")
    assert answer["media"]["delivery"] == delivery
    decoded = received_videos(answer)
    assert len(decoded) == 1 and decoded[0]["frames"] >= 2
    assert "chat request 1 received" in emulator.wait_for_log("chat request 1 received")


def test_ask_serves_the_video_over_http_to_the_linux_server(emulator: Emulator, videos: dict[str, Path]) -> None:
    answer = ask(emulator, windows_path(videos["vp9"]), f"{NATIVE}#delivery=http", "--http-advertise", "127.0.0.1")
    assert answer["media"]["delivery"] == "http"
    assert received_videos(answer)[0]["frames"] >= 2
    log = emulator.wait_for_log("fetched http://127.0.0.1")
    assert re.search(r"fetched http://127\.0\.0\.1:\d+/media/\S+ \(HTTP 200, \d+ bytes\)", log), log


def test_ask_with_images_through_frame_slicer(emulator: Emulator, videos: dict[str, Path]) -> None:
    # Room for the whole description of every image (their SHA-256 digits cost a token each).
    result = wine_host("--endpoint", emulator.base_url, "--loadout", f"vllm://{MODEL}#max_tokens=4096", "ask", "--video",
                       windows_path(videos["hevc_10bit"]), "--prompt", "what happens?", "--json")
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["plugin"] == "frame_slicer"
    assert len(json.loads(answer["answer"])["images"]) == len(answer["media"]["frames"]) >= 2


# --- Windows paths and the shared volume on Wine's drive -------------------------------------------------------------

def place_on_drive_c(folder: Path, video: Path, *parts: str) -> Path:
    target = folder.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(video, target)
    return target


def stage_and_ask(drive_c_folder: Path, video: Path, staged_as: str, staged_name: str, links: str) -> None:
    """plan says how `video` is staged into a volume on C:, and ask through the file delivery gives the server the
    video under a safe name (`staged_name`, a regular expression) with `links` names, removed afterwards."""
    volume = drive_c_folder / "input_data"
    volume.mkdir()
    emulator = Emulator("--allowed-local-media-path", str(volume))
    try:
        args = ["--input-data-host", windows_path(volume), "--input-data-container", str(volume)]
        planned = json.loads(wine_host("--loadout", NATIVE, *args, "plan", "--video", windows_path(video), "--prompt", "?",
                                       "--json").stdout)
        assert planned["media"]["delivery"] == "file" and planned["media"]["staged"] is True
        assert staged_as in " ".join(planned["warnings"])
        answer = ask(emulator, windows_path(video), NATIVE + "#delivery=file", *args)
    finally:
        emulator.stop()
    assert answer["media"]["delivery"] == "file" and answer["media"]["staged"] is True
    assert received_videos(answer)[0]["frames"] >= 2
    log = emulator.wait_for_log("/.jarvis-staging/jarvis-")
    pattern = r"read \S+/\.jarvis-staging/jarvis-p\d+-m[0-9a-f]{8}-\d+-\d+-" + staged_name + r" \(\d+ bytes, " + links + r"\)"
    assert re.search(pattern, log), log
    assert list((volume / ".jarvis-staging").iterdir()) == []
    assert video.exists()


def test_file_delivery_stages_a_user_video_into_the_volume_by_hard_link(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    video = place_on_drive_c(drive_c_folder, videos["h264_bframes"], "Users", "Łukasz", "Videos", "klip ąę 漢字.mp4")
    stage_and_ask(drive_c_folder, video, "it is linked into it when asking (a hard link: no copy)", r"klip_+\.mp4", "2 links")


def test_file_delivery_copies_a_video_from_another_volume(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    # Wine's Z: drive on tmpfs: another filesystem than C:'s, so the hard link fails as across Windows drives, and
    # the video is copied (CopyFileExW, with progress) into the volume.
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        video = Path(other) / "clip.mp4"
        shutil.copyfile(videos["h264_bframes"], video)
        stage_and_ask(drive_c_folder, video, "on another volume: it is copied into it when asking", r"clip\.mp4", "1 links")


def test_a_running_process_s_links_to_week_old_videos_outlive_another_process_s_staging(drive_c_folder: Path,
                                                                                        videos: dict[str, Path]) -> None:
    # A link has its video's time: to another process's staging, a week-old recording's link looks unwritten for a
    # week. The link being asked about is also held by its process's open video (Windows deletes no name of an open
    # file); a second link of that process, to a video no one has open, is kept only by Windows' link count
    # (GetFileInformationByHandle) and the check that its writer runs.
    volume = drive_c_folder / "input_data"
    volume.mkdir()
    week_ago = time.time() - 7 * 24 * 3600
    old = place_on_drive_c(drive_c_folder, videos["h264_bframes"], "Videos", "old.mp4")
    closed = place_on_drive_c(drive_c_folder, videos["h264_bframes"], "Videos", "closed.mp4")
    for video in (old, closed):
        os.utime(video, (week_ago, week_ago))
    new = place_on_drive_c(drive_c_folder, videos["vp9"], "Videos", "new.webm")
    args = ["--input-data-host", windows_path(volume), "--input-data-container", str(volume),
            "--loadout", NATIVE + "#delivery=file"]
    held = Emulator("--allowed-local-media-path", str(volume), "--fault-hang")
    answering = Emulator("--allowed-local-media-path", str(volume))
    waiting = subprocess.Popen(["wine", str(WINDOWS_HOST), "--endpoint", held.base_url, *args, "ask", "--video",
                                windows_path(old), "--prompt", "what happens?"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        held.wait_for_log("chat request 1 received")  # its link is staged, its request on the server
        staging = volume / ".jarvis-staging"
        [asked] = list(staging.iterdir())
        assert asked.stat().st_nlink == 2 and asked.stat().st_mtime == pytest.approx(week_ago)
        owner = re.match(r"(jarvis-p\d+-m[0-9a-f]{8}-)", asked.name)
        assert owner, asked.name
        second = staging / (owner.group(1) + "1-1-closed.mp4")
        os.link(closed, second)
        other = wine_host("--endpoint", answering.base_url, *args, "ask", "--video", windows_path(new), "--prompt", "?", "--json")
        assert other.code == 0, other.stderr
        assert json.loads(other.stdout)["media"]["staged"] is True
        assert waiting.poll() is None
        assert sorted(staging.iterdir()) == sorted([asked, second])
    finally:
        waiting.kill()
        waiting.wait(timeout=60)
        held.stop()
        answering.stop()


def test_probe_measures_on_a_user_video_and_removes_what_a_killed_probe_left(drive_c_folder: Path) -> None:
    # H.264, which this build cannot encode, copied into the calibration videos; at least 5 s of it.
    video = make_video(drive_c_folder / "Users" / "Łukasz" / "Videos" / "klip.mkv", "-f", "lavfi", "-i",
                       "testsrc2=size=320x240:rate=25", "-t", "6", "-c:v", "libx264", "-bf", "2", "-g", "25")
    volume = drive_c_folder / "input_data"
    volume.mkdir()
    emulator = Emulator("--allowed-local-media-path", str(volume))
    try:
        args = ["--endpoint", emulator.base_url, "--input-data-host", windows_path(volume), "--input-data-container", str(volume)]
        result = wine_host(*args, "probe", "--video", windows_path(video), "--json")
        assert result.code == 0, result.stderr
        decoding = json.loads(result.stdout)["server_decoding"]
        assert decoding["delivery"] == "file" and decoding["codec"] == "h264" and decoding["video"] == windows_path(video)
        assert decoding["frames_decoded"][1] > decoding["frames_decoded"][0] > 0
        # On the volume's drive: the file delivery links it, so there is no copy to time.
        copy = json.loads(result.stdout)["stage_copy"]
        assert copy["copies"] is False and copy["stage_copy_mb_per_s"] is None, copy
        assert list(volume.iterdir()) == []
        # A probe killed before its clean-up: its video, named after a process that no longer runs on this machine
        # (Wine's process ids are small; this one was never given) and last written two minutes ago.
        mark = re.search(r"jarvis-probe-p\d+-m([0-9a-f]{8})-", emulator.log)
        assert mark, emulator.log
        left = volume / f"jarvis-probe-p4000004-m{mark.group(1)}-1-0.mp4"
        left.write_bytes(b"a padded probe video")
        two_minutes_ago = time.time() - 120
        os.utime(left, (two_minutes_ago, two_minutes_ago))
        other_machine = volume / "jarvis-probe-p4000004-m00000000-1-1.mp4"
        other_machine.write_bytes(b"another machine's probe video")
        os.utime(other_machine, (two_minutes_ago, two_minutes_ago))
        result = wine_host(*args, "probe", "--json")
        assert result.code == 0, result.stderr
    finally:
        emulator.stop()
    assert not left.exists()
    assert other_machine.exists() or mark.group(1) == "00000000"


def test_plan_and_ask_agree_when_the_volume_is_missing(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    missing = windows_path(drive_c_folder) + "\\no_such_volume"
    args = ["--loadout", NATIVE + "#delivery=file", "--input-data-host", missing, "--input-data-container", "/input_data"]
    planned = wine_host(*args, "plan", "--video", windows_path(videos["vp9"]), "--prompt", "?")
    asked = wine_host("--endpoint", "http://127.0.0.1:9/v1", *args, "ask", "--video", windows_path(videos["vp9"]),
                      "--prompt", "?")
    assert planned.code == asked.code == 2
    assert "does not exist" in planned.stderr and "does not exist" in asked.stderr


def test_non_ascii_paths(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    video = place_on_drive_c(drive_c_folder, videos["vfr"], "Users", "Łukasz", "Videos", "klip ąę 漢字.mp4")
    document = plan(wine_host, windows_path(video))
    assert document["media"]["source"] == windows_path(video)
    assert frame_times(document) == frame_times(plan(linux_host, str(videos["vfr"])))


def test_paths_longer_than_260_characters(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    parts = [f"folder {i:02d} with a long name ąę" for i in range(10)]
    video = place_on_drive_c(drive_c_folder, videos["h264_bframes"], *parts, "klip 漢字.mp4")
    plain = windows_path(video)
    assert len(plain) > 260
    expected = frame_times(plan(linux_host, str(videos["h264_bframes"])))
    assert frame_times(plan(wine_host, plain)) == expected
    assert frame_times(plan(wine_host, "\\\\?\\" + plain)) == expected


def test_drive_letter_paths_with_forward_slashes(drive_c_folder: Path, videos: dict[str, Path]) -> None:
    video = place_on_drive_c(drive_c_folder, videos["vp9"], "clip.webm")
    assert frame_times(plan(wine_host, windows_path(video).replace("\\", "/"))) == frame_times(
        plan(linux_host, str(videos["vp9"])))


# --- bad input: a clear error and its exit code ----------------------------------------------------------------------

def test_missing_video_exits_3_naming_it(drive_c_folder: Path) -> None:
    missing = windows_path(drive_c_folder) + "\\nie ma 漢字.mp4"
    result = wine_host("plan", "--video", missing, "--prompt", "?")
    assert result.code == 3
    assert f"cannot use video '{missing}': no such file" in result.stderr


def test_truncated_video_exits_3(tmp_path: Path, videos: dict[str, Path]) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(videos["h264_bframes"].read_bytes()[:1500])
    result = wine_host("plan", "--video", windows_path(truncated), "--prompt", "?")
    assert result.code == 3
    assert "truncated.mp4" in result.stderr and "moov atom not found" in result.stderr


def test_a_folder_is_not_a_video(tmp_path: Path) -> None:
    result = wine_host("plan", "--video", windows_path(tmp_path), "--prompt", "?")
    assert result.code == 3
    assert "it is a directory" in result.stderr


def test_bad_loadout_exits_2() -> None:
    result = wine_host("--loadout", f"vllm://{MODEL}#fps=fast", "plan", "--video", "C:\\x.mp4", "--prompt", "?")
    assert result.code == 2
    assert "fps" in result.stderr


def test_unreachable_server_exits_4(videos: dict[str, Path]) -> None:
    result = wine_host("--endpoint", "http://127.0.0.1:9/v1", "ask", "--video", windows_path(videos["vp9"]), "--prompt",
                       "?")
    assert result.code == 4, result.stderr


def test_unknown_command_exits_2() -> None:
    result = wine_host("explode")
    assert result.code == 2
    assert "unknown command 'explode'" in result.stderr


class PlaylistServer:
    """A folder served on loopback (Wine's programs reach it there too), an HLS playlist and its segments or a video,
    by Python's http.server, which takes no range requests: every body whole, from its first byte. With `cut_at` (a
    share), each body is cut there: its whole length is announced, that much sent, and the connection closed."""

    def __init__(self, folder: Path, cut_at: float | None = None) -> None:
        self.requests: dict[str, int] = {}
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self) -> None:
                requests[self.path] = requests.get(self.path, 0) + 1
                if cut_at is None:
                    super().do_GET()
                    return
                body = (folder / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:int(len(body) * cut_at)])
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes-128"])
def test_an_hls_playlist_url_gives_the_same_frames_as_on_linux(videos: dict[str, Path], tmp_path: Path, encrypted: bool) -> None:
    # The Windows FFmpeg carries the hls demuxer and the crypto protocol (AES-128 segments) as Debian's does.
    key_options: list[str] = []
    if encrypted:
        (tmp_path / "key.bin").write_bytes(bytes(range(16)))
        (tmp_path / "key.info").write_text(f"key.bin\n{tmp_path / 'key.bin'}\n")
        key_options = ["-hls_key_info_file", str(tmp_path / "key.info")]
    make_video(tmp_path / "video.m3u8", "-i", str(videos["h264_bframes"]), "-c", "copy", "-f", "hls", "-hls_time", "1",
               "-hls_playlist_type", "vod", *key_options, "-hls_segment_filename", str(tmp_path / "segment%d.ts"))
    assert ("#EXT-X-KEY:METHOD=AES-128" in (tmp_path / "video.m3u8").read_text()) == encrypted
    server = PlaylistServer(tmp_path)
    try:
        linux = plan(linux_host, server.url("video.m3u8"))
        windows = plan(wine_host, server.url("video.m3u8"))
    finally:
        server.close()
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) >= 2
    assert windows["media"]["duration_s"] == pytest.approx(linux["media"]["duration_s"])


def wine_temporary_copies() -> list[Path]:
    """Copies of URLs left in the Wine user's temporary folder."""
    return list((PREFIX / "drive_c" / "users").glob("*/**/Temp/jarvis-download-*"))


def test_a_video_from_a_server_without_range_requests_is_read_once_as_on_linux(videos: dict[str, Path], tmp_path: Path) -> None:
    # Its MP4 index is at the end: opening it reads it whole, into a copy that the decoding then reads too.
    shutil.copy(videos["h264_bframes"], tmp_path / "clip.mp4")
    assert b"moov" not in (tmp_path / "clip.mp4").read_bytes()[:4096]
    server = PlaylistServer(tmp_path)
    loadout = f"vllm://{MODEL}#fps=10"
    try:
        linux = plan(linux_host, server.url("clip.mp4"), loadout)
        windows = plan(wine_host, server.url("clip.mp4"), loadout)
    finally:
        server.close()
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) == 30
    assert server.requests == {"/clip.mp4": 2}  # one each
    assert wine_temporary_copies() == []


def test_a_server_that_cuts_a_video_short_is_named_as_the_reason_as_on_linux(videos: dict[str, Path], tmp_path: Path) -> None:
    # The index at the end is never sent: the demuxer alone would say "moov atom not found".
    shutil.copy(videos["h264_bframes"], tmp_path / "clip.mp4")
    server = PlaylistServer(tmp_path, cut_at=0.5)
    args = ["plan", "--video", server.url("clip.mp4"), "--prompt", "what happens?"]
    try:
        linux = linux_host(*args)
        windows = wine_host(*args)
    finally:
        server.close()
    assert (windows.code, linux.code) == (3, 3), windows.stderr
    for run in (windows, linux):
        assert server.url("clip.mp4") in run.stderr
        assert "its server stopped sending after" in run.stderr or "its server ended the body after" in run.stderr, run.stderr
    assert server.requests == {"/clip.mp4": 2}  # one each
    assert wine_temporary_copies() == []


def test_a_follow_up_question_continues_from_the_previous_answer(emulator: Emulator, videos: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    first = ask(emulator, windows_path(videos["h264_bframes"]), f"{NATIVE}#delivery=frames")
    (tmp_path / "first.json").write_text(json.dumps(first))
    result = wine_host("--endpoint", emulator.base_url, "ask", "--continue", windows_path(tmp_path / "first.json"),
                       "--prompt", "And then?", "--json")
    assert result.code == 0, result.stderr
    follow_up = json.loads(result.stdout)
    assert [t["prompt"] for t in follow_up["conversation"]["turns"]] == ["what happens?", "And then?"]
    report = re.search(r"chat request 2 report (\{.*\})", emulator.wait_for_log("chat request 2 report"))
    assert report
    shared = json.loads(report.group(1))["prefix"]
    assert shared["shared_tokens"] == shared["previous_tokens"] > 0
