"""The Windows loading path, exercised on Linux with the Windows-only calls replaced by recorders: there is no Windows
Python here, so this checks what the package asks Windows to do (folders, flags, order), not Windows itself."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import pytest

from jarvis_vision import _platform


class Recorder:
    def __init__(self) -> None:
        self.added: list[str] = []
        self.closed: list[str] = []
        self.loaded: list[tuple[str, dict[str, Any]]] = []

    def add_dll_directory(self, path: str) -> Any:
        self.added.append(path)
        recorder = self

        class Cookie:
            def close(self) -> None:
                recorder.closed.append(path)

        return Cookie()

    def cdll(self, name: str, **kwargs: Any) -> str:
        # The folders must be registered while the DLL loads: Windows resolves its imports then.
        assert self.added and not self.closed
        self.loaded.append((name, kwargs))
        return "library"


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(_platform, "IS_WINDOWS", True)
    monkeypatch.setattr(os, "add_dll_directory", recorder.add_dll_directory, raising=False)
    monkeypatch.setattr(ctypes, "CDLL", recorder.cdll)
    return recorder


def package_layout(root: Path) -> Path:
    """jarvis_vision/plugins/*.dll beside jarvis_vision/bin/*.dll, as the Windows distribution's package has them."""
    (root / "jarvis_vision" / "plugins").mkdir(parents=True)
    (root / "jarvis_vision" / "bin").mkdir()
    plugin = root / "jarvis_vision" / "plugins" / "native_video.dll"
    plugin.write_bytes(b"")
    return plugin


def test_the_package_layout_adds_its_bin_folder_and_loads_with_the_search_flags(tmp_path: Path, windows: Recorder) -> None:
    plugin = package_layout(tmp_path)
    assert _platform.load_library(plugin) == "library"
    assert windows.added == [str(plugin.parent), str(tmp_path / "jarvis_vision" / "bin")]
    name, kwargs = windows.loaded[0]
    assert name == str(plugin)
    # LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR; no POSIX mode.
    assert kwargs == {"winmode": 0x1000 | 0x100}
    assert sorted(windows.closed) == sorted(windows.added)


def test_the_distribution_layout_adds_bin_beside_lib(tmp_path: Path, windows: Recorder) -> None:
    plugins = tmp_path / "lib" / "jarvis" / "plugins"
    plugins.mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    plugin = plugins / "frame_slicer.dll"
    plugin.write_bytes(b"")
    _platform.load_library(plugin)
    assert windows.added == [str(plugins), str(tmp_path / "bin")]


def test_the_folders_are_released_even_when_loading_fails(tmp_path: Path, windows: Recorder,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = package_layout(tmp_path)

    def refuse(name: str, **kwargs: Any) -> None:
        raise OSError("[WinError 126] The specified module could not be found")

    monkeypatch.setattr(ctypes, "CDLL", refuse)
    with pytest.raises(OSError, match="126"):
        _platform.load_library(plugin)
    assert sorted(windows.closed) == sorted(windows.added)


def test_linux_loads_with_posix_flags_only() -> None:
    assert not _platform.IS_WINDOWS and _platform.PLUGIN_SUFFIX == ".so"
