"""Loading plugin libraries from a folder: each file either becomes a validated table or a reason it did not."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

from . import _abi
from ._platform import PLUGIN_SUFFIX, load_library


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, its own version, the ABI it speaks ("1.1") and the file it came from."""

    name: str
    version: str
    abi: str
    path: Path


@dataclass(frozen=True)
class PluginFailure:
    """A file in the plugin folder that is not a usable plugin, and why."""

    path: Path
    reason: str


class LoadedPlugin:
    def __init__(self, path: Path) -> None:
        """Raises ValueError with the reason the file is not a usable plugin."""
        try:
            self.library = load_library(path)
        except OSError as e:
            raise ValueError(f"cannot load it: {e}") from None
        try:
            entry = getattr(self.library, _abi.ENTRY_POINT)
        except AttributeError:
            raise ValueError(f"not a jarvis-vision plugin: it does not export {_abi.ENTRY_POINT}") from None
        entry.restype = ctypes.c_void_p
        entry.argtypes = [ctypes.c_uint32]
        address = entry(_abi.ABI_MAJOR)
        if not address:
            raise ValueError(f"the plugin refuses ABI major {_abi.ABI_MAJOR}")
        # Copy only what the plugin's table has: an older plugin's is shorter than ours.
        size = ctypes.cast(address, ctypes.POINTER(ctypes.c_uint32))[0]
        self.table = _abi.JvPlugin()
        ctypes.memmove(ctypes.byref(self.table), address, min(int(size), ctypes.sizeof(_abi.JvPlugin)))
        needed = _abi.JvPlugin.ask.offset + _abi.JvPlugin.ask.size
        if size < needed:
            raise ValueError(f"its table is {size} bytes, smaller than the {needed} this host needs")
        if self.table.abi_major != _abi.ABI_MAJOR:
            raise ValueError(f"it implements ABI major {self.table.abi_major}, this host needs {_abi.ABI_MAJOR}")
        if not (self.table.name and self.table.version and self.table.create and self.table.destroy
                and self.table.plan and self.table.ask):
            raise ValueError("its table leaves a required member empty")
        self.info = PluginInfo(
            name=self.table.name.decode("utf-8"),
            version=self.table.version.decode("utf-8"),
            abi=f"{self.table.abi_major}.{self.table.abi_minor}",
            path=path,
        )

    def has_tools(self) -> bool:
        return _abi.covers(self.table, "tool") and bool(self.table.tool)


def scan(folder: Path) -> tuple[dict[str, LoadedPlugin], list[PluginFailure]]:
    """Every plugin file in `folder`, in name order; the first of each plugin name wins, as in jarvis-host."""
    plugins: dict[str, LoadedPlugin] = {}
    failures: list[PluginFailure] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix == PLUGIN_SUFFIX):
        try:
            plugin = LoadedPlugin(path)
        except ValueError as e:
            failures.append(PluginFailure(path, str(e)))
            continue
        if plugin.info.name in plugins:
            failures.append(PluginFailure(path, f"a second plugin named {plugin.info.name}; "
                                                f"{plugins[plugin.info.name].info.path} is used"))
            continue
        plugins[plugin.info.name] = plugin
    return plugins, failures
