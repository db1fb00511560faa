"""The Windows distribution's Python package, loaded as a Windows Python loads it. There is no Windows Python here, so
load_like_python.exe (built beside the distribution, in a folder of its own, as python.exe holds none of our DLLs)
does what the package's _platform.load_library does through ctypes: add the folders _platform.dependency_dirs names
(os.add_dll_directory), load the plugin with LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR, and
call it from a thread of its own."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from conftest import DIST, MODEL, Emulator, Run, frame_times, linux_host, plan, windows_path, wine_run

PACKAGE = DIST / "python" / "jarvis_vision"
LOADER = DIST.parent / "python_loader" / "load_like_python.exe"


def package_platform() -> ModuleType:
    """The distribution's own _platform.py (pure path logic where it names folders), as Windows would run it."""
    spec = importlib.util.spec_from_file_location("jarvis_vision_platform", PACKAGE / "_platform.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loader_args(plugin: Path, dll_dirs: list[Path]) -> list[str]:
    return [windows_path(plugin), *[arg for folder in dll_dirs for arg in ("--dll-dir", windows_path(folder))]]


def load_like_python(plugin: Path, dll_dirs: list[Path], *args: str) -> Run:
    return wine_run(LOADER, *loader_args(plugin, dll_dirs), *args)


def call_files(folder: Path, config: dict, request: dict) -> list[str]:
    """The --plan/--ask arguments' files: the client's configuration and the call's request, as the package sends them."""
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
    return [windows_path(folder / "config.json"), windows_path(folder / "request.json")]


@pytest.fixture
def installed_package(drive_c_folder: Path) -> Path:
    """The package where pip puts it: a Jarvis virtual environment in the home folder of a user whose name is not
    ASCII, as many Windows user names are not."""
    site_packages = drive_c_folder / "users" / "Zoë Jürgens" / "jarvis" / ".venv" / "Lib" / "site-packages"
    return Path(shutil.copytree(PACKAGE, site_packages / "jarvis_vision"))


def test_the_loader_holds_no_dll_of_ours_beside_it() -> None:
    assert LOADER.is_file(), f"{LOADER} is missing: scripts/build_windows.sh builds it"
    assert [p.name for p in LOADER.parent.iterdir() if p.suffix.lower() == ".dll"] == []


def test_each_plugin_loads_from_the_installed_package_as_python_loads_it(installed_package: Path) -> None:
    plugins = sorted((installed_package / "plugins").glob("*.dll"))
    assert [p.stem for p in plugins] == ["frame_slicer", "native_video"]
    for plugin in plugins:
        dll_dirs = package_platform().dependency_dirs(plugin.parent)
        assert dll_dirs == [installed_package / "plugins", installed_package / "bin"]
        result = load_like_python(plugin, dll_dirs)
        assert result.code == 0, result.stderr
        loaded = json.loads(result.stdout.splitlines()[0])
        assert loaded["name"] == plugin.stem
        assert loaded["abi"].startswith("1.")


@pytest.mark.parametrize("plugin_name, loadout", [("frame_slicer", f"vllm://{MODEL}"),
                                                  ("native_video", f"vllm://{MODEL}#nativevideo#delivery=frames")])
def test_a_plan_from_python_s_thread_gives_the_frames_of_the_linux_build(installed_package: Path, videos: dict[str, Path],
                                                                        plugin_name: str, loadout: str) -> None:
    # The video sits in the same user's folder: a non-ASCII path the plugin opens as UTF-8, as Python passes it.
    user = installed_package.parents[4]
    video = Path(shutil.copy(videos["h264_bframes"], user / "Nagranie z ekranu — łódź.mp4"))
    plugin = installed_package / "plugins" / f"{plugin_name}.dll"
    result = load_like_python(plugin, package_platform().dependency_dirs(plugin.parent), "--plan",
                              *call_files(user, {}, {"prompt": "what happens?", "loadout": loadout, "video": windows_path(video)}))
    assert result.code == 0, result.stderr
    windows = json.loads(result.stdout.splitlines()[1])
    linux = plan(linux_host, str(videos["h264_bframes"]), loadout)
    assert frame_times(windows) == frame_times(linux)
    assert len(frame_times(windows)) >= 2


@pytest.mark.parametrize("how", ["without the package's folders added", "with a DLL missing from the package"])
def test_the_plugins_find_their_dlls_only_through_the_package_s_folders(installed_package: Path, how: str) -> None:
    # What makes the loads above pass: take it away and the same load fails with Windows' "module not found".
    plugin = installed_package / "plugins" / "frame_slicer.dll"
    dll_dirs = package_platform().dependency_dirs(plugin.parent)
    if how == "without the package's folders added":
        dll_dirs = []
    else:
        (installed_package / "bin" / "avcodec-59.dll").unlink()
    result = load_like_python(plugin, dll_dirs)
    assert result.code == 3, result.stdout + result.stderr
    assert "LoadLibraryExW" in result.stderr and "error 126" in result.stderr


def test_an_ask_cancelled_from_another_thread_returns_and_leaves_no_staged_link(installed_package: Path,
                                                                               videos: dict[str, Path]) -> None:
    # As task.cancel() or a threading.Event does it: the flag is set on one thread while the ask waits on another,
    # here for a server that never answers; the plugin polls it through is_cancelled.
    user = installed_package.parents[4]
    volume = user / "jarvis" / "input_data"
    volume.mkdir(parents=True)
    video = Path(shutil.copy(videos["h264_bframes"], user / "klip.mp4"))  # outside the volume: staged by a hard link
    server = Emulator("--allowed-local-media-path", str(volume), "--fault-hang")
    plugin = installed_package / "plugins" / "native_video.dll"
    config = {"endpoint": {"base_url": server.base_url},
              "input_data": {"host_path": windows_path(volume), "container_path": str(volume)}}
    request = {"prompt": "what happens?", "loadout": f"vllm://{MODEL}#nativevideo#delivery=file", "video": windows_path(video)}
    asking = subprocess.Popen(["wine", str(LOADER), *loader_args(plugin, package_platform().dependency_dirs(plugin.parent)),
                               "--ask", *call_files(user, config, request), "--cancel-on-input"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    staging = volume / ".jarvis-staging"
    try:
        server.wait_for_log("chat request 1 received")
        assert len(list(staging.iterdir())) == 1  # the link the request names
        _, stderr = asking.communicate(input=b"cancel\n", timeout=120)
        assert asking.returncode == 10 + 6, stderr.decode(errors="replace")  # JV_E_CANCELLED
        assert b"ask failed (6)" in stderr
        assert list(staging.iterdir()) == []
    finally:
        if asking.poll() is None:
            asking.kill()
            asking.wait(timeout=60)
        server.stop()
