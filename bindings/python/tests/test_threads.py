"""Threads as Jarvis has them: concurrent asks, close() while asks run, calls after close, daemon threads at exit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

import jarvis_vision
from conftest import MODEL, Emulator

NATIVE = f"vllm://{MODEL}#nativevideo#delivery=data"


def test_two_concurrent_asks_on_one_provider_and_on_two(emulator: Emulator, videos: dict[str, Path]) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        shared = client.provider(NATIVE)
        other = client.provider(f"vllm://{MODEL}")
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(shared.ask, videos["clip"], "one"), pool.submit(shared.ask, videos["clip"], "two"),
                       pool.submit(other.ask, videos["clip"], "three")]
            results = [f.result(timeout=120) for f in futures]
        assert [r["plugin"] for r in results] == ["native_video", "native_video", "frame_slicer"]
        assert json.loads(results[0]["answer"])["videos"][0]["sha256"] == json.loads(results[1]["answer"])["videos"][0]["sha256"]


def test_close_during_ask_cancels_it_waits_for_it_and_later_calls_raise(start_emulator: Callable[..., Emulator],
                                                                        videos: dict[str, Path]) -> None:
    hanging = start_emulator("--fault-hang")
    client = jarvis_vision.Client(hanging.config())
    provider = client.provider(NATIVE)
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            provider.ask(videos["clip"], "x")
        except BaseException as e:
            outcome["error"] = e

    thread = threading.Thread(target=ask)
    thread.start()
    hanging.wait_for_log("chat request 1 received")
    assert client.close() is True  # returns only once the ask has returned
    assert not thread.is_alive() or (thread.join(5) is None and not thread.is_alive())
    assert isinstance(outcome["error"], jarvis_vision.Cancelled)
    assert "closed" in str(outcome["error"])
    with pytest.raises(jarvis_vision.ConfigError, match="closed"):
        provider.ask(videos["clip"], "x")
    with pytest.raises(jarvis_vision.ConfigError, match="closed"):
        client.provider(NATIVE)


def test_close_from_inside_a_callback_is_refused_not_a_deadlock(start_emulator: Callable[..., Emulator],
                                                               videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "200")
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(f"vllm://{MODEL}")
        with pytest.raises(jarvis_vision.ConfigError, match="wait for itself"):
            provider.ask(videos["clip"], "x", on_text=lambda piece: provider.close())


EXIT_SCRIPT = """
import os, sys, threading, time, jarvis_vision
client = jarvis_vision.Client({{"endpoint": {{"base_url": sys.argv[1]}}}}, close_at_exit={close_at_exit})
provider = client.provider("vllm://m#nativevideo#delivery=data")
threading.Thread(target=lambda: provider.ask(sys.argv[2], "What happens?"), daemon=True).start()
sys.stdin.readline()  # the test says when the request is on the server

class SlowToFinalize:
    # Collected by the garbage collector once Python has begun finalizing, and slow: the daemon thread, polling its
    # cancel flag every 50 ms, calls back into Python meanwhile and is ended there by pthread_exit.
    def __del__(self, write=os.write, sleep=time.sleep):
        write(2, b"finalizing\\n")
        sleep(0.5)

cycle = SlowToFinalize()
cycle.self = cycle
del cycle
print("main thread exits", flush=True)
"""


@pytest.mark.parametrize("close_at_exit", [True, False])
def test_interpreter_exit_with_a_daemon_thread_inside_ask_exits_normally(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path], close_at_exit: bool) -> None:
    # close_at_exit=False leaves the thread inside the plugin while Python finalizes: the thread is then ended by
    # pthread_exit the next time it calls back into Python, which unwinds through the plugin's C++ frames.
    hanging = start_emulator("--fault-hang")
    child = subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT.format(close_at_exit=close_at_exit), hanging.base_url,
                              str(videos["clip"])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    hanging.wait_for_log("chat request 1 received")
    out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0, f"exit {child.returncode}: {err}"
    assert "main thread exits" in out
    assert "FATAL" not in err and "terminate" not in err  # "FATAL: exception not rethrown" was the SIGABRT
    if not close_at_exit:
        assert "finalizing" in err  # the window in which the thread was ended did happen
