"""What differs between Linux and Windows when loading a plugin: its file name and how its dependencies are found.

Windows (Python 3.8+) no longer searches PATH for a DLL's dependencies: the folders holding them are added with
os.add_dll_directory, and the plugin is loaded with the search flags that honour them. os.RTLD_* exist only on POSIX.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

IS_WINDOWS = os.name == "nt"
PLUGIN_SUFFIX = ".dll" if IS_WINDOWS else ".so"

# LoadLibraryEx flags: the DLL's own folder, then the application's, System32 and add_dll_directory's folders.
_LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR = 0x00000100
_LOAD_LIBRARY_SEARCH_DEFAULT_DIRS = 0x00001000


def dependency_dirs(plugin_dir: Path) -> list[Path]:
    """Folders that may hold a plugin's dependency DLLs (FFmpeg, libcurl, the FFmpeg log owner): the package's
    bin/ beside its plugins/ (jarvis_vision/bin), or the distribution's bin/ (bin/ and lib/jarvis/plugins/)."""
    candidates = [plugin_dir, plugin_dir.parent / "bin", plugin_dir.parent.parent.parent / "bin"]
    return [d for d in candidates if d.is_dir()]


def load_library(path: Path) -> ctypes.CDLL:
    """Loads a plugin library now, its symbols private to it. Raises OSError."""
    if IS_WINDOWS:
        add_dll_directory = getattr(os, "add_dll_directory")  # Windows only
        cookies = [add_dll_directory(str(d)) for d in dependency_dirs(path.parent)]
        try:
            return ctypes.CDLL(str(path), winmode=_LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | _LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR)
        finally:
            for cookie in cookies:
                cookie.close()
    return ctypes.CDLL(str(path), mode=os.RTLD_NOW | os.RTLD_LOCAL)
