"""One plan, ask or tool call through the C ABI: its callbacks, its cancellation and how it ends.

Callbacks run on the calling thread, inside the plugin. An exception raised by one of the caller's callbacks must not
unwind into C: it is kept, the plugin is told to stop (is_cancelled answers 1), and once the plugin has returned the
kept exception is raised to the caller unchanged.
"""

from __future__ import annotations

import ctypes
import json
import threading
from typing import Any, Callable, Optional, Protocol

from . import _abi
from .errors import Cancelled, InternalError, error_for

TextCallback = Callable[[str], Any]
ProgressCallback = Callable[[str, float], Any]


class CancelFlag(Protocol):
    """What `cancel=` accepts: a threading.Event, or anything with is_set()."""

    def is_set(self) -> bool: ...


class Call:
    def __init__(
        self,
        on_text: Optional[TextCallback],
        on_progress: Optional[ProgressCallback],
        cancel: Optional[CancelFlag],
    ) -> None:
        self.thread_id = threading.get_ident()
        self._on_text = on_text
        self._on_progress = on_progress
        self._cancel = cancel
        self._stopped = threading.Event()  # close(), or a callback that raised
        self._stop_reason = ""
        self._failure: Optional[BaseException] = None
        self._result: Optional[bytes] = None
        # Kept referenced for as long as the plugin may call them: ctypes frees a thunk with its Python object.
        self._callbacks = _abi.JvCallbacks(
            ctypes.sizeof(_abi.JvCallbacks),
            None,
            _abi.BytesFn(self._take_result),
            _abi.BytesFn(self._take_text),
            _abi.ProgressFn(self._take_progress),
            _abi.CancelledFn(self._is_cancelled),
        )

    def stop(self, reason: str) -> None:
        """Asks the plugin to stop this call soon (it polls is_cancelled)."""
        if not self._stopped.is_set():
            self._stop_reason = reason
            self._stopped.set()

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self.stop("a callback raised")

    def _take_result(self, _user: Any, data: Any, length: int) -> None:
        self._result = ctypes.string_at(data, length)

    def _take_text(self, _user: Any, data: Any, length: int) -> None:
        if self._on_text is None or self._failure is not None:
            return
        try:
            self._on_text(ctypes.string_at(data, length).decode("utf-8", errors="replace"))
        except BaseException as e:  # KeyboardInterrupt too: it must reach the caller, not the C frames
            self._fail(e)

    def _take_progress(self, _user: Any, stage: Optional[bytes], fraction: float) -> None:
        if self._on_progress is None or self._failure is not None:
            return
        try:
            self._on_progress((stage or b"").decode("utf-8", errors="replace"), fraction)
        except BaseException as e:
            self._fail(e)

    def _is_cancelled(self, _user: Any) -> int:
        if self._stopped.is_set():
            return 1
        if self._cancel is None:
            return 0
        try:
            return 1 if self._cancel.is_set() else 0
        except BaseException as e:
            self._fail(e)
            return 1

    def run(self, function: Any, handle: ctypes.c_void_p, request: dict[str, Any]) -> dict[str, Any]:
        """Runs the plugin function; returns the result document or raises."""
        error = _abi.new_error()
        status = function(handle, json.dumps(request).encode("utf-8"), ctypes.byref(self._callbacks), ctypes.byref(error))
        if self._failure is not None:
            raise self._failure
        if status != _abi.OK:
            message = error.message.decode("utf-8", errors="replace")
            if status == _abi.E_CANCELLED and self._stop_reason:
                message = f"cancelled: {self._stop_reason}"
            raise error_for(int(status), message, int(error.http_status))
        if self._result is None:
            raise InternalError("the plugin returned success without a result document")
        document = json.loads(self._result)
        if not isinstance(document, dict):
            raise InternalError("the plugin's result is not a JSON object")
        return document


__all__ = ["Call", "CancelFlag", "Cancelled", "ProgressCallback", "TextCallback"]
