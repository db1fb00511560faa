"""A provider: one plugin configured once, asked about videos from any number of threads or coroutines."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _abi
from ._call import Call, CancelFlag, ProgressCallback, TextCallback
from ._library import LoadedPlugin, PluginInfo
from .errors import ConfigError, error_for
from .loadout import with_options

if TYPE_CHECKING:
    from .streaming import TextStream

Video = Union[str, "os.PathLike[str]"]

_LOG_LEVELS = [(logging.ERROR, _abi.LOG_ERROR), (logging.WARNING, _abi.LOG_WARN), (logging.INFO, _abi.LOG_INFO),
               (logging.DEBUG, _abi.LOG_DEBUG)]
_PYTHON_LEVEL = {_abi.LOG_TRACE: logging.DEBUG, _abi.LOG_DEBUG: logging.DEBUG, _abi.LOG_INFO: logging.INFO,
                 _abi.LOG_WARN: logging.WARNING, _abi.LOG_ERROR: logging.ERROR}


def _plugin_level(logger: logging.Logger) -> int:
    """The least severe plugin level the logger would show: lines below it are not even formatted."""
    effective = logger.getEffectiveLevel()
    for python_level, plugin_level in _LOG_LEVELS[::-1]:
        if python_level >= effective:
            return plugin_level
    return _abi.LOG_ERROR


def utf8_text(name: str, text: str) -> str:
    """`text` unchanged if it can cross to the plugin as UTF-8; a str can hold what cannot (lone surrogates: a file
    name in another encoding, as os.listdir gives it on Linux), which the plugin would only see as broken JSON."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ConfigError(f"{name} is not UTF-8 text ({e.reason} at offset {e.start}); the plugins take text and paths "
                          "as UTF-8") from None
    return text


def video_source(video: Video) -> str:
    """A path (str or os.PathLike) or an http(s) URL, as the request document takes it."""
    if isinstance(video, (str, os.PathLike)):
        source = os.fspath(video)
        if isinstance(source, bytes):
            source = os.fsdecode(source)
        return utf8_text("video", source)
    raise ConfigError(f"video must be a path or an http(s) URL, not {type(video).__name__}")


class Provider:
    """One configured plugin (see Client.provider). plan and ask may run from several threads at once.

    close() cancels the calls still running, waits until each has returned, and only then frees the plugin's
    provider; any call after close() raises ConfigError. Calls are cancelled through `cancel` (a threading.Event)
    or, for the async forms, by cancelling their task.
    """

    def __init__(self, plugin: LoadedPlugin, config_json: str, loadout: str, logger: logging.Logger) -> None:
        self.plugin: PluginInfo = plugin.info
        self.name: str = plugin.info.name
        self.loadout: str = loadout
        self._plugin = plugin  # keeps the library loaded while the provider lives
        self._logger = logger
        self._cond = threading.Condition()
        self._active: set[Call] = set()
        self._closing = False
        self._log_fn = _abi.LogFn(self._forward_log)  # referenced until destroy: the plugin may log until then
        self._host = _abi.JvHost(ctypes.sizeof(_abi.JvHost), None, self._log_fn, _plugin_level(logger))
        handle = ctypes.c_void_p()
        error = _abi.new_error()
        status = plugin.table.create(ctypes.byref(self._host), config_json.encode("utf-8"), ctypes.byref(handle),
                                     ctypes.byref(error))
        if status != _abi.OK:
            raise error_for(int(status), error.message.decode("utf-8", errors="replace"), int(error.http_status))
        self._handle: Optional[ctypes.c_void_p] = handle

    def _forward_log(self, _user: Any, level: int, message: Any, length: int) -> None:
        # Any plugin thread may log; a failing log handler must never fail the call that logged.
        try:
            text = ctypes.string_at(message, length).decode("utf-8", errors="replace")
            self._logger.log(_PYTHON_LEVEL.get(level, logging.ERROR), "%s: %s", self.name, text)
        except Exception:
            pass

    # --- calls -------------------------------------------------------------------------------------------------

    def _request(self, video: Optional[Video], prompt: str, options: dict[str, Any],
                 stream: Optional[bool]) -> dict[str, Any]:
        if not isinstance(prompt, str) or not prompt:
            raise ConfigError("prompt must be a non-empty string")
        options = dict(options)
        conversation = options.pop("conversation", None)
        request: dict[str, Any] = {"prompt": utf8_text("prompt", prompt), "loadout": with_options(self.loadout, options)}
        if conversation is not None:
            if not isinstance(conversation, dict):
                raise ConfigError("conversation must be the dict a previous result carried (result['conversation'])")
            request["conversation"] = conversation
        if video is not None:
            request["video"] = video_source(video)
        elif conversation is None:
            raise ConfigError("video is required (a path or an http(s) URL), unless a conversation is continued")
        if stream is not None:
            request["stream"] = stream
        return request

    def _run(self, member: str, request: dict[str, Any], on_text: Optional[TextCallback],
             on_progress: Optional[ProgressCallback], cancel: Optional[CancelFlag]) -> dict[str, Any]:
        call = Call(on_text, on_progress, cancel)
        with self._cond:
            if self._handle is None or self._closing:
                raise ConfigError(f"the {self.name} provider is closed")
            self._active.add(call)
            handle = self._handle
        try:
            return call.run(getattr(self._plugin.table, member), handle, request)
        finally:
            with self._cond:
                self._active.discard(call)
                self._cond.notify_all()

    def plan(self, video: Optional[Video], prompt: str, *, on_progress: Optional[ProgressCallback] = None,
             cancel: Optional[CancelFlag] = None, **options: Any) -> dict[str, Any]:
        """Builds the request without sending it: the plan document (request, media, estimate, warnings).

        Keyword options are loadout keys for this call only: fps=1, max_frames=16, seek="keyframe", delivery="frames";
        and conversation=previous["conversation"] to plan a follow-up question about the same video.
        """
        return self._run("plan", self._request(video, prompt, options, None), None, on_progress, cancel)

    def ask(self, video: Optional[Video], prompt: str, on_text: Optional[TextCallback] = None,
            cancel: Optional[CancelFlag] = None, *, on_progress: Optional[ProgressCallback] = None,
            stream: Optional[bool] = None, **options: Any) -> dict[str, Any]:
        """Asks the model about the video; blocks until the answer is complete and returns the result document.

        With on_text the answer is streamed and each piece (whole UTF-8 characters) is passed to it as it arrives,
        on this thread. An exception raised by on_text or on_progress stops the call and is raised here unchanged.
        With conversation=previous["conversation"] the question follows up the earlier ones about the same video
        (video may then be None): the result's "conversation" continues it again.
        """
        wants_stream = stream if stream is not None else (True if on_text is not None else None)
        return self._run("ask", self._request(video, prompt, options, wants_stream), on_text, on_progress, cancel)

    async def plan_async(self, video: Optional[Video], prompt: str, **options: Any) -> dict[str, Any]:
        """plan() on a thread of its own; cancelling the task cancels the plan."""
        from .streaming import run_in_thread

        return await run_in_thread(lambda cancel: self.plan(video, prompt, cancel=cancel, **options))

    async def ask_async(self, video: Optional[Video], prompt: str, on_text: Optional[TextCallback] = None,
                        **options: Any) -> dict[str, Any]:
        """ask() without blocking the event loop. on_text runs on the event loop and may be a coroutine function;
        cancelling the task cancels the plugin's call (its thread has returned when CancelledError is raised)."""
        from .streaming import ask_through_stream

        return await ask_through_stream(self, video, prompt, on_text, options)

    def stream(self, video: Optional[Video], prompt: str, **options: Any) -> TextStream:
        """The answer as an async iterator of text pieces; `.result` holds the result document once exhausted.

            async with provider.stream(video, "What happens?") as answer:
                async for piece in answer:
                    ...
            answer.result["usage"]
        """
        from .streaming import TextStream

        return TextStream(self, self._request(video, prompt, options, True))

    def tool(self, request: dict[str, Any], cancel: Optional[CancelFlag] = None,
             on_progress: Optional[ProgressCallback] = None) -> dict[str, Any]:
        """Runs one of the plugin's host tools (ABI 1.1): {"tool": "vllm_command" | "vram" | "probe", ...}."""
        if not self._plugin.has_tools():
            raise ConfigError(f"plugin {self.name} (ABI {self.plugin.abi}) has no host tools; it is older than ABI 1.1")
        return self._run("tool", request, None, on_progress, cancel)

    # --- lifetime ----------------------------------------------------------------------------------------------

    def close(self, timeout: Optional[float] = None) -> bool:
        """Cancels running calls, waits for them to return, then frees the provider. Returns False when `timeout`
        seconds passed first (the provider is then left allocated, never freed under a running call)."""
        with self._cond:
            if self._handle is None:
                return True
            if any(c.thread_id == threading.get_ident() for c in self._active):
                raise ConfigError("close() from inside a callback of this provider's own call would wait for itself")
            self._closing = True
            for call in self._active:
                call.stop("the provider was closed")
            if not self._cond.wait_for(lambda: not self._active, timeout):
                return False
            handle, self._handle = self._handle, None
        self._plugin.table.destroy(handle)
        return True

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<jarvis_vision.Provider {self.name} {self.loadout!r}{' closed' if self.closed else ''}>"

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None) is not None and not self._active:
                self.close()
        except Exception:
            pass


__all__ = ["Provider", "Video"]
