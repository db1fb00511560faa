"""plan and ask from ordinary Python: results, streaming, every error kind, and callbacks that raise."""

from __future__ import annotations

import builtins
import logging
import json
import threading
from pathlib import Path
from typing import Callable

import pytest

import jarvis_vision
from conftest import FIXTURE_PLUGIN_DIR, MODEL, Emulator

NATIVE = f"vllm://{MODEL}#nativevideo"


def test_plan_takes_a_pathlib_path_and_options(emulator: Emulator, videos: dict[str, Path]) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(NATIVE)
        stages: list[str] = []
        plan = provider.plan(videos["clip"], "What moves?", delivery="frames", fps=1, max_frames=4,
                             on_progress=lambda stage, fraction: stages.append(stage))
        assert plan["plugin"] == "native_video"
        assert plan["media"]["source"] == str(videos["clip"])
        assert plan["media"]["delivery"] == "frames"
        assert len(plan["media"]["frames"]) == 2  # 2 s at fps=1
        assert plan["request"]["model"] == MODEL
        assert "probe" in stages


def test_ask_returns_what_the_server_made_of_the_video(emulator: Emulator, videos: dict[str, Path]) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        result = client.provider(NATIVE).ask(videos["clip"], "What moves?", delivery="data")
        seen = json.loads(result["answer"])
        assert seen["videos"][0]["sha256"]  # the emulator decoded a video
        assert seen["videos"][0]["width"] == 320
        assert result["usage"]["prompt_tokens"] > 0
        assert result["plugin"] == "native_video"


def test_streamed_pieces_are_the_answer_in_order(start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "300")
    with jarvis_vision.Client(emulator.config()) as client:
        pieces: list[str] = []
        result = client.provider(f"vllm://{MODEL}").ask(videos["clip"], "What moves?", on_text=pieces.append)
        assert len(pieces) > 3
        assert "".join(pieces) == result["answer"]


def error_of(call: Callable[[], object]) -> jarvis_vision.VisionError:
    with pytest.raises(jarvis_vision.VisionError) as caught:
        call()
    return caught.value


def test_each_error_kind_has_its_class_and_kind(start_emulator: Callable[..., Emulator], videos: dict[str, Path],
                                                tmp_path: Path) -> None:
    emulator = start_emulator()
    no_video = start_emulator("--limit-mm-per-prompt", '{"video": 0, "image": 0}')
    slow = start_emulator("--fault-first-byte-delay-ms", "3000")
    clip = videos["clip"]
    with jarvis_vision.Client(emulator.config()) as client:
        usage = error_of(lambda: client.provider(NATIVE).plan(clip, "x", fps="fast"))
        assert isinstance(usage, jarvis_vision.ConfigError) and usage.kind == "usage"
        assert "fps=fast is not a number" in str(usage)

        media = error_of(lambda: client.provider(NATIVE).plan(tmp_path / "missing.mp4", "x"))
        assert isinstance(media, jarvis_vision.MediaError) and media.kind == "media"
        assert "missing.mp4" in str(media)

    with jarvis_vision.Client({"endpoint": {"base_url": "http://127.0.0.1:9/v1", "connect_timeout_s": 2}}) as client:
        unreachable = error_of(lambda: client.provider(NATIVE).ask(clip, "x", delivery="data"))
        assert isinstance(unreachable, jarvis_vision.UnreachableError) and unreachable.kind == "unreachable"

    with jarvis_vision.Client(no_video.config()) as client:
        refused = error_of(lambda: client.provider(NATIVE).ask(clip, "x", delivery="data", fallback=False))
        assert isinstance(refused, jarvis_vision.RefusedError) and refused.kind == "refused"
        assert refused.http_status == 400
        assert "At most 0 video(s) may be provided" in str(refused)

    with jarvis_vision.Client({"endpoint": {"base_url": slow.base_url, "timeout_s": 1}}) as client:
        timeout = error_of(lambda: client.provider(NATIVE).ask(clip, "x", delivery="data"))
        assert isinstance(timeout, jarvis_vision.TimeoutError) and timeout.kind == "timeout"
        assert isinstance(timeout, builtins.TimeoutError)

    with jarvis_vision.Client(plugin_dir=FIXTURE_PLUGIN_DIR, close_at_exit=False) as client:
        throwing = client._new_provider(client._plugin("throwing", "test"), "vllm://m")
        internal = error_of(lambda: throwing.plan(clip, "x"))
        assert isinstance(internal, jarvis_vision.InternalError) and internal.kind == "internal"
        assert "plan failed on purpose" in str(internal)


def test_a_cancel_event_stops_a_waiting_ask(start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    hanging = start_emulator("--fault-hang")
    cancel = threading.Event()
    with jarvis_vision.Client(hanging.config()) as client:
        provider = client.provider(NATIVE)
        threading.Thread(target=lambda: (hanging.wait_for_log("chat request 1 received"), cancel.set()), daemon=True).start()
        cancelled = error_of(lambda: provider.ask(videos["clip"], "x", delivery="data", cancel=cancel))
        assert isinstance(cancelled, jarvis_vision.Cancelled) and cancelled.kind == "cancelled"


class Boom(Exception):
    pass


def test_an_exception_in_on_text_stops_the_call_and_is_raised_unchanged(start_emulator: Callable[..., Emulator],
                                                                        videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "4000", "--fault-chunk-delay-ms", "20")
    boom = Boom("the consumer failed")
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 2:
            raise boom

    with jarvis_vision.Client(emulator.config()) as client:
        with pytest.raises(Boom) as caught:
            client.provider(f"vllm://{MODEL}").ask(videos["clip"], "x", on_text=on_text)
        assert caught.value is boom
        assert len(pieces) == 2  # nothing more was handed to a callback that failed
        emulator.wait_for_log("the client closed the stream")  # the server learned to stop


def test_exceptions_in_on_progress_and_in_the_cancel_flag_are_raised_unchanged(emulator: Emulator,
                                                                               videos: dict[str, Path]) -> None:
    class BrokenFlag:
        def is_set(self) -> bool:
            raise KeyError("flag broke")

    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(f"vllm://{MODEL}")
        with pytest.raises(Boom, match="progress"):
            provider.plan(videos["clip"], "x", on_progress=lambda stage, f: (_ for _ in ()).throw(Boom("progress")))
        with pytest.raises(KeyError, match="flag broke"):
            provider.plan(videos["clip"], "x", cancel=BrokenFlag())
        # The provider is still usable after a call that failed in a callback.
        assert provider.plan(videos["clip"], "x")["plugin"] == "frame_slicer"


def test_a_bad_video_argument_is_a_config_error(emulator: Emulator) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        with pytest.raises(jarvis_vision.ConfigError, match="video must be a path"):
            client.provider().plan(42, "x")  # type: ignore[arg-type]
        with pytest.raises(jarvis_vision.ConfigError, match="prompt"):
            client.provider().plan("clip.mp4", "")


def test_text_and_paths_that_cannot_cross_as_they_are_are_config_errors_naming_them(emulator: Emulator) -> None:
    # A file named in another encoding, as os.listdir gives it on Linux (surrogate escapes), and a prompt holding a
    # lone surrogate: both would reach the plugin as JSON it cannot parse.
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider()
        with pytest.raises(jarvis_vision.ConfigError, match=r"^video is not UTF-8 text \(surrogates not allowed at offset 3\)"):
            provider.plan(Path(b"caf\xe9.mp4".decode("utf-8", "surrogateescape")), "x")
        with pytest.raises(jarvis_vision.ConfigError, match=r"^prompt is not UTF-8 text \(surrogates not allowed at offset 4\)"):
            provider.plan("clip.mp4", "bad \ud800 text")
        # A path the operating system would end at its NUL, naming another file.
        with pytest.raises(jarvis_vision.ConfigError, match="video must not contain a NUL character"):
            provider.plan("clip.mp4\x00.txt", "x")


def test_plugin_logs_go_to_the_jarvis_vision_logger(emulator: Emulator, videos: dict[str, Path],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jarvis_vision")
    with jarvis_vision.Client(emulator.config()) as client:
        client.provider(NATIVE).ask(videos["clip"], "What moves?", delivery="data")
    lines = [r for r in caplog.records if r.name == "jarvis_vision"]
    assert any("native_video: delivering" in r.getMessage() and r.levelno == logging.INFO for r in lines), \
        [r.getMessage() for r in lines]
    # The logger's level decides: nothing below it reaches the log.
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="jarvis_vision")
    with jarvis_vision.Client(emulator.config()) as client:
        client.provider(NATIVE).ask(videos["clip"], "What moves?", delivery="data")
    assert not [r for r in caplog.records if r.name == "jarvis_vision" and r.levelno < logging.WARNING]
