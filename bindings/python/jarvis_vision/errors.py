"""The errors a plugin call can end with: one class per kind, all of them VisionError."""

from __future__ import annotations

import builtins

# The ABI's status codes (vision_provider.h), by kind.
KINDS: dict[int, str] = {
    1: "usage",
    2: "media",
    3: "unreachable",
    4: "refused",
    5: "timeout",
    6: "cancelled",
    7: "internal",
}


class VisionError(Exception):
    """A plugin call failed. `kind` says how (see KINDS); `http_status` is the server's status when it answered."""

    kind: str = "internal"

    def __init__(self, message: str, *, kind: str | None = None, http_status: int = 0) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.message = message
        self.http_status = http_status


class ConfigError(VisionError):
    """Bad configuration, loadout or request; also a call on a closed client (jarvis-host's exit 2)."""

    kind = "usage"


class MediaError(VisionError):
    """The video cannot be used: missing, unreadable, no video stream (exit 3)."""

    kind = "media"


class UnreachableError(VisionError):
    """The server cannot be reached (exit 4)."""

    kind = "unreachable"


class RefusedError(VisionError):
    """The server refused the request; the message is its own (exit 5)."""

    kind = "refused"


class TimeoutError(VisionError, builtins.TimeoutError):  # noqa: A001 - the name is the contract's
    """The server did not answer in time (exit 6). Also a builtin TimeoutError."""

    kind = "timeout"


class Cancelled(VisionError):
    """The call was cancelled through its `cancel` event, or by close() (exit 130)."""

    kind = "cancelled"


class InternalError(VisionError):
    """A failure inside the plugin (exit 1)."""

    kind = "internal"


class PluginNotFoundError(ConfigError):
    """No plugin folder was found, or the loadout routes to a plugin that is not in it."""


_BY_STATUS: dict[int, type[VisionError]] = {
    1: ConfigError,
    2: MediaError,
    3: UnreachableError,
    4: RefusedError,
    5: TimeoutError,
    6: Cancelled,
    7: InternalError,
}


def error_for(status: int, message: str, http_status: int = 0) -> VisionError:
    """The exception for a failed call's status code."""
    cls = _BY_STATUS.get(status, InternalError)
    return cls(message, http_status=http_status)
