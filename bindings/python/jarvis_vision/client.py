"""The entry point: a Client loads the plugins once and hands out providers routed by loadout."""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ._call import CancelFlag, ProgressCallback
from ._discovery import find_plugin_dir
from ._library import LoadedPlugin, PluginFailure, PluginInfo, scan
from .errors import ConfigError, PluginNotFoundError
from .loadout import DEFAULT_LOADOUT, from_jarvis, plugin_for
from .provider import Provider, Video, video_source

Loadout = Union[str, Mapping[str, Any]]

# How long interpreter exit waits for running calls to notice their cancellation (they poll every 20-50 ms).
EXIT_WAIT_S = 5.0
_live_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    # Daemon threads may be inside a plugin call when the interpreter exits: cancel them while Python still runs
    # their callbacks, rather than leave them to be ended mid-call.
    for client in list(_live_clients):
        client.close(timeout=EXIT_WAIT_S)


class Client:
    """Loads the jarvis-vision plugins and creates providers for loadouts.

    config: the configuration document (endpoint, loadout, input_data, ...); Jarvis's whole configuration may be
        given as it is: keys this module does not own are ignored, and said in results' warnings.
    plugin_dir: where the plugins are; else JARVIS_VISION_PLUGIN_DIR; else the layout the package was installed in.
    logger: where plugin logs go (default: the "jarvis_vision" logger).
    close_at_exit: cancel and close this client's calls when the interpreter exits (default on).
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None,
                 plugin_dir: Union[str, "os.PathLike[str]", None] = None, *,
                 logger: Optional[logging.Logger] = None, close_at_exit: bool = True) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise ConfigError(f"config must be a mapping (a dict), not {type(config).__name__}")
        self.config: dict[str, Any] = dict(config or {})
        try:
            self._config_json = json.dumps(self.config, default=str)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"config cannot be written as JSON: {e}") from None
        self.logger = logger if logger is not None else logging.getLogger("jarvis_vision")
        self.plugin_dir: Path = find_plugin_dir(plugin_dir)
        self._plugins, self.plugin_errors = scan(self.plugin_dir)
        for failure in self.plugin_errors:
            self.logger.warning("skipped plugin %s: %s", failure.path, failure.reason)
        if not self._plugins:
            raise PluginNotFoundError(f"no usable plugin in {self.plugin_dir}: "
                                      + "; ".join(f"{f.path.name}: {f.reason}" for f in self.plugin_errors))
        self._lock = threading.Lock()
        self._providers: list[Provider] = []
        self._closed = False
        if close_at_exit:
            _live_clients.add(self)

    @property
    def plugins(self) -> list[PluginInfo]:
        """Every plugin loaded: name, version, ABI, path."""
        return [p.info for p in self._plugins.values()]

    @property
    def default_loadout(self) -> str:
        loadout = self.config.get("loadout")
        return loadout if isinstance(loadout, str) and loadout else DEFAULT_LOADOUT

    def _loadout_text(self, loadout: Optional[Loadout]) -> str:
        if loadout is None:
            return self.default_loadout
        if isinstance(loadout, Mapping):
            return from_jarvis(loadout)
        if isinstance(loadout, str):
            return loadout
        raise ConfigError(f"loadout must be a string or Jarvis's parsed model dict, not {type(loadout).__name__}")

    def _plugin(self, name: str, why: str) -> LoadedPlugin:
        plugin = self._plugins.get(name)
        if plugin is None:
            raise PluginNotFoundError(f"{why} plugin '{name}', which is not in {self.plugin_dir}")
        return plugin

    def _new_provider(self, plugin: LoadedPlugin, loadout: str) -> Provider:
        with self._lock:
            if self._closed:
                raise ConfigError("the client is closed")
            provider = Provider(plugin, self._config_json, loadout, self.logger)
            self._providers.append(provider)
            return provider

    def provider(self, loadout: Optional[Loadout] = None) -> Provider:
        """A provider of the plugin the loadout routes to (#nativevideo: native_video, else frame_slicer).

        loadout: a string as in Jarvis's loadouts.yaml ("vllm://MODEL#nativevideo#ctx=32768"), the dict Jarvis's
        parse_model_string makes of one, or None for the configuration's loadout.
        """
        text = self._loadout_text(loadout)
        return self._new_provider(self._plugin(plugin_for(text), "the loadout routes to"), text)

    def _run_tool(self, plugin_name: str, why: str, request: dict[str, Any], loadout: Optional[Loadout],
                  cancel: Optional[CancelFlag] = None, on_progress: Optional[ProgressCallback] = None) -> dict[str, Any]:
        text = self._loadout_text(loadout)
        provider = self._new_provider(self._plugin(plugin_name or plugin_for(text), why), text)
        try:
            return provider.tool({**request, "loadout": text}, cancel=cancel, on_progress=on_progress)
        finally:
            provider.close()
            with self._lock:
                if provider in self._providers:
                    self._providers.remove(provider)

    def vllm_command(self, format: str = "docker", loadout: Optional[Loadout] = None) -> str:
        """The vLLM launch matching this configuration: "docker" (one line for bash and PowerShell), "compose"
        (a docker-compose service) or "args" (vLLM's arguments as a JSON array). As jarvis-host vllm-command."""
        return str(self._run_tool("", "the loadout routes to", {"tool": "vllm_command", "format": format}, loadout)["command"])

    def vram(self, loadout: Optional[Loadout] = None) -> dict[str, Any]:
        """The GPU memory this configuration needs and whether it fits; as jarvis-host vram --json."""
        return self._run_tool("", "the loadout routes to", {"tool": "vram"}, loadout)

    def probe(self, loadout: Optional[Loadout] = None, cancel: Optional[CancelFlag] = None,
              on_progress: Optional[ProgressCallback] = None, video: Optional[Video] = None) -> dict[str, Any]:
        """Checks the live endpoint with every delivery this configuration allows; as jarvis-host probe --json.
        report["ok"] is False when the server refused every delivery. With `video`, the server's decoding is
        measured on that video's first seconds (its codec and size) instead of a generated test pattern."""
        request: dict[str, Any] = {"tool": "probe"}
        if video is not None:
            request["video"] = video_source(video)
        return self._run_tool("native_video", "probe needs the", request, loadout, cancel, on_progress)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Closes every provider (cancelling and waiting for their running calls); later calls raise ConfigError.
        Returns False when `timeout` passed before every call had returned."""
        with self._lock:
            self._closed = True
            providers = list(self._providers)
        all_closed = all([p.close(timeout) for p in providers])
        _live_clients.discard(self)
        return all_closed

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<jarvis_vision.Client {self.plugin_dir} plugins={sorted(self._plugins)}>"


__all__ = ["Client", "Loadout", "PluginFailure"]
