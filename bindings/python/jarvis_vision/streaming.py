"""asyncio without blocking the event loop: each plugin call runs on a daemon thread of its own.

The thread hands text pieces and its outcome to the loop with call_soon_threadsafe, so pieces arrive in order and
before the result. Cancelling the awaiting task sets the call's cancel flag and then waits (without blocking the
loop) until the thread has returned from the plugin, so no call outlives its task. Daemon threads, because Python
joins the default executor's threads at exit and a plugin call can be long.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import TYPE_CHECKING, Any, Callable, Generic, Optional, TypeVar, Union

from ._call import TextCallback

if TYPE_CHECKING:
    from .provider import Provider, Video

T = TypeVar("T")


class _Outcome(Generic[T]):
    def __init__(self, value: Optional[T] = None, error: Optional[BaseException] = None) -> None:
        self.value = value
        self.error = error


class _Worker(Generic[T]):
    """`work(cancel)` on a daemon thread; `finished` resolves on the loop with its outcome."""

    def __init__(self, loop: asyncio.AbstractEventLoop, work: Callable[[threading.Event], T], name: str) -> None:
        self.loop = loop
        self.cancel = threading.Event()
        self.finished: asyncio.Future[_Outcome[T]] = loop.create_future()
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> _Worker[T]:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            outcome: _Outcome[T] = _Outcome(value=self._work(self.cancel))
        except BaseException as e:
            outcome = _Outcome(error=e)
        self.post(self._settle, outcome)

    def post(self, function: Callable[..., Any], *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    def _settle(self, outcome: _Outcome[T]) -> None:
        if not self.finished.done():
            self.finished.set_result(outcome)

    async def stop(self) -> None:
        """Cancels the call and waits until its thread has returned, whatever else cancels the waiting task."""
        self.cancel.set()
        while not self.finished.done():
            try:
                await asyncio.shield(self.finished)
            except asyncio.CancelledError:
                continue
        self._thread.join()  # it posted its outcome as its last act: this is at once

    async def outcome(self) -> T:
        try:
            outcome = await asyncio.shield(self.finished)
        except asyncio.CancelledError:
            await self.stop()
            raise
        self._thread.join()
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]


async def run_in_thread(work: Callable[[threading.Event], T]) -> T:
    """work(cancel) on a daemon thread; cancelling the task sets `cancel` and waits for work to return."""
    return await _Worker(asyncio.get_running_loop(), work, "jarvis-vision call").start().outcome()


class _End:
    def __init__(self, result: Optional[dict[str, Any]], error: Optional[BaseException]) -> None:
        self.result = result
        self.error = error


class TextStream:
    """An answer as it arrives: `async for piece in stream`; then `stream.result` is the ask's result document.

    Leaving an `async with` block early, aclose(), or cancelling the consuming task cancels the plugin's call and
    waits for its thread to return. Errors of the call are raised from the iteration.
    """

    def __init__(self, provider: Provider, request: dict[str, Any]) -> None:
        self.result: Optional[dict[str, Any]] = None
        self._provider = provider
        self._request = request
        self._queue: Optional[asyncio.Queue[Union[str, _End]]] = None
        self._worker: Optional[_Worker[None]] = None
        self._ended = False

    def _start(self) -> None:
        if self._worker is not None:
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Union[str, _End]] = asyncio.Queue()
        self._queue = queue

        def work(cancel: threading.Event) -> None:
            worker = self._worker
            assert worker is not None

            def text(piece: str) -> None:
                assert worker is not None
                worker.post(queue.put_nowait, piece)

            try:
                result = self._provider._run("ask", self._request, text, None, cancel)
                worker.post(queue.put_nowait, _End(result, None))
            except BaseException as e:
                worker.post(queue.put_nowait, _End(None, e))

        self._worker = _Worker(loop, work, "jarvis-vision stream")
        self._worker.start()

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        if self._ended:
            raise StopAsyncIteration
        self._start()
        assert self._queue is not None and self._worker is not None
        try:
            item = await self._queue.get()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        if isinstance(item, str):
            return item
        self._ended = True
        await self._worker.stop()  # returns at once: the thread posted its end last
        if item.error is not None:
            raise item.error
        self.result = item.result
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Cancels the call if it is still running and waits for its thread to return."""
        self._ended = True
        if self._worker is not None:
            await self._worker.stop()

    async def __aenter__(self) -> TextStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()  # abandoned mid-answer: stop the plugin's call


async def ask_through_stream(provider: Provider, video: Optional[Video], prompt: str, on_text: Optional[TextCallback],
                             options: dict[str, Any]) -> dict[str, Any]:
    """ask_async: the streamed answer handed piece by piece to on_text (awaited when it is a coroutine function)."""
    if on_text is None:
        request = provider._request(video, prompt, options, None)
        return await run_in_thread(lambda cancel: provider._run("ask", request, None, None, cancel))
    async with provider.stream(video, prompt, **options) as answer:
        async for piece in answer:
            returned = on_text(piece)
            if inspect.isawaitable(returned):
                await returned
    assert answer.result is not None
    return answer.result
