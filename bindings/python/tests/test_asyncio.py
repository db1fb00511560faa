"""asyncio as Jarvis uses it: the event loop keeps running, task.cancel() stops the plugin's call."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Callable

import pytest

import jarvis_vision
from conftest import MODEL, Emulator, no_call_threads_left

SLICER = f"vllm://{MODEL}"


def test_ask_async_returns_the_result_and_hands_pieces_to_a_coroutine(start_emulator: Callable[..., Emulator],
                                                                     videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "300")

    async def main() -> None:
        queue: asyncio.Queue[str] = asyncio.Queue()
        with jarvis_vision.Client(emulator.config()) as client:
            provider = client.provider(SLICER)
            result = await provider.ask_async(videos["clip"], "What moves?", on_text=queue.put)
            pieces = [queue.get_nowait() for _ in range(queue.qsize())]
            assert "".join(pieces) == result["answer"]
            plain = await provider.ask_async(videos["clip"], "What moves?")
            assert json.loads(plain["answer"])["images"]
            assert (await provider.plan_async(videos["clip"], "x"))["plugin"] == "frame_slicer"

    asyncio.run(main())


def test_stream_yields_pieces_then_holds_the_result(start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "300")

    async def main() -> None:
        with jarvis_vision.Client(emulator.config()) as client:
            answer = client.provider(SLICER).stream(videos["clip"], "What moves?")
            pieces = [piece async for piece in answer]
            assert answer.result is not None
            assert "".join(pieces) == answer.result["answer"]
            assert len(pieces) > 3

    asyncio.run(main())


def test_the_event_loop_keeps_running_while_a_long_video_decodes(emulator: Emulator, videos: dict[str, Path]) -> None:
    async def main() -> None:
        stalls: list[float] = []
        done = False

        async def ticker() -> None:
            last = time.monotonic()
            while not done:
                await asyncio.sleep(0.005)
                now = time.monotonic()
                stalls.append(now - last)
                last = now

        with jarvis_vision.Client(emulator.config()) as client:
            ticks = asyncio.create_task(ticker())
            result = await client.provider(SLICER).ask_async(videos["long"], "What happens?", max_frames=64)
            done = True
            await ticks
        assert result["media"]["duration_s"] == pytest.approx(40, abs=0.5)
        # The loop ran all along: many ticks, none held up for the length of the decode (seconds). The benchmark
        # measures the longest stall precisely; here only what cannot pass with a blocked loop is asserted.
        assert len(stalls) > 20
        assert max(stalls) < 0.5 * result["timings"]["total_s"]

    asyncio.run(main())


def test_task_cancel_stops_the_plugin_call_and_raises_cancelled_error(start_emulator: Callable[..., Emulator],
                                                                       videos: dict[str, Path]) -> None:
    hanging = start_emulator("--fault-hang")

    async def main() -> None:
        with jarvis_vision.Client(hanging.config()) as client:
            provider = client.provider(f"vllm://{MODEL}#nativevideo#delivery=data")
            task = asyncio.create_task(provider.ask_async(videos["clip"], "x", on_text=lambda piece: None))
            await asyncio.get_running_loop().run_in_executor(None, hanging.wait_for_log, "chat request 1 received")
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            latency = time.monotonic() - started
            # When CancelledError arrives the plugin's call has already returned: its thread is gone.
            assert no_call_threads_left(timeout=0.0)
            assert latency < 5, latency  # the benchmark measures it; 200 ms is the target
            # The provider is not left in a call: closing needs no waiting.
            assert provider.close(timeout=0) is True

    asyncio.run(main())


def test_cancelling_a_decode_stops_it(emulator: Emulator, videos: dict[str, Path]) -> None:
    async def main() -> None:
        with jarvis_vision.Client(emulator.config()) as client:
            progress = asyncio.Event()
            loop = asyncio.get_running_loop()
            provider = client.provider(SLICER)

            def on_progress(stage: str, fraction: float) -> None:
                if stage == "decode":
                    loop.call_soon_threadsafe(progress.set)

            task = asyncio.create_task(jarvis_vision.streaming.run_in_thread(
                lambda cancel: provider.plan(videos["long"], "x", fps=2, max_frames=400, cancel=cancel, on_progress=on_progress)))
            await progress.wait()  # decoding is under way
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert no_call_threads_left(timeout=0.0)

    asyncio.run(main())


def test_leaving_a_stream_early_cancels_the_call(start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "4000", "--fault-chunk-delay-ms", "20")

    async def main() -> None:
        with jarvis_vision.Client(emulator.config()) as client:
            async with client.provider(SLICER).stream(videos["clip"], "x") as answer:
                async for _piece in answer:
                    break
            assert answer.result is None
            assert no_call_threads_left(timeout=0.0)
        emulator.wait_for_log("the client closed the stream")

    asyncio.run(main())


def test_an_exception_in_an_async_on_text_is_raised_unchanged(start_emulator: Callable[..., Emulator],
                                                               videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "4000", "--fault-chunk-delay-ms", "20")
    boom = RuntimeError("the queue consumer failed")

    async def on_text(piece: str) -> None:
        raise boom

    async def main() -> None:
        with jarvis_vision.Client(emulator.config()) as client:
            with pytest.raises(RuntimeError) as caught:
                await client.provider(SLICER).ask_async(videos["clip"], "x", on_text=on_text)
            assert caught.value is boom
            assert no_call_threads_left(timeout=0.0)

    asyncio.run(main())
