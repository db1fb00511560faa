"""jarvis-vision: eyes for video in the Jarvis voice assistant.

    import jarvis_vision

    with jarvis_vision.Client({"endpoint": {"base_url": "http://127.0.0.1:8300/v1"}}) as client:
        provider = client.provider("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#ctx=32768")
        result = provider.ask("clip.mp4", "What happens in this clip?", on_text=print)
        # or, in asyncio: await provider.ask_async(...), async for piece in provider.stream(...)

The plugins are shared libraries behind a stable C ABI; this package loads them with ctypes.
"""

from ._library import PluginFailure, PluginInfo
from .client import Client
from .errors import (
    Cancelled,
    ConfigError,
    InternalError,
    MediaError,
    PluginNotFoundError,
    RefusedError,
    TimeoutError,
    UnreachableError,
    VisionError,
)
from .loadout import DEFAULT_LOADOUT, from_jarvis, plugin_for
from .provider import Provider
from .streaming import TextStream

__version__ = "0.2.0"

__all__ = [
    "Cancelled",
    "Client",
    "ConfigError",
    "DEFAULT_LOADOUT",
    "InternalError",
    "MediaError",
    "PluginFailure",
    "PluginInfo",
    "PluginNotFoundError",
    "Provider",
    "RefusedError",
    "TextStream",
    "TimeoutError",
    "UnreachableError",
    "VisionError",
    "from_jarvis",
    "plugin_for",
]
