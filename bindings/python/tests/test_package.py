"""The package as pip installed it: importable, typed, and finding its plugins without being told where."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import jarvis_vision
from conftest import FIXTURE_PLUGIN_DIR, PLUGIN_DIR


def test_the_installed_package_is_the_one_under_test() -> None:
    package = Path(jarvis_vision.__file__).parent
    assert Path(sys.prefix) in package.parents, f"imported from {package}, not from the venv {sys.prefix}"
    assert (package / "py.typed").is_file()


def test_the_installed_package_finds_its_bundled_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARVIS_VISION_PLUGIN_DIR", raising=False)
    with jarvis_vision.Client() as client:
        assert client.plugin_dir == Path(jarvis_vision.__file__).parent / "plugins"
        assert {p.name for p in client.plugins} == {"native_video", "frame_slicer"}
        for info in client.plugins:
            assert info.abi == "1.1"
            assert info.version
            assert info.path.parent == client.plugin_dir


def test_plugin_dir_then_the_environment_variable_decide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JARVIS_VISION_PLUGIN_DIR", str(PLUGIN_DIR))
    with jarvis_vision.Client() as client:
        assert client.plugin_dir == PLUGIN_DIR.resolve()
    with jarvis_vision.Client(plugin_dir=Path(jarvis_vision.__file__).parent / "plugins") as client:
        assert client.plugin_dir.name == "plugins"
        assert client.plugin_dir.parent.name == "jarvis_vision"

    monkeypatch.setenv("JARVIS_VISION_PLUGIN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(jarvis_vision.PluginNotFoundError) as caught:
        jarvis_vision.Client()
    assert "JARVIS_VISION_PLUGIN_DIR" in str(caught.value)
    assert str(tmp_path / "nowhere") in str(caught.value) and "does not exist" in str(caught.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(jarvis_vision.PluginNotFoundError, match="has no .so files"):
        jarvis_vision.Client(plugin_dir=empty)
    assert isinstance(caught.value, jarvis_vision.ConfigError)


def test_every_place_looked_is_named_when_nothing_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARVIS_VISION_PLUGIN_DIR", raising=False)
    from jarvis_vision import _discovery

    monkeypatch.setattr(_discovery, "_PACKAGE_DIR", Path("/nonexistent/site-packages/jarvis_vision"))
    with pytest.raises(jarvis_vision.PluginNotFoundError) as caught:
        jarvis_vision.Client()
    assert "/nonexistent/site-packages/jarvis_vision/plugins (does not exist)" in str(caught.value)


def test_broken_plugin_files_are_reported_and_the_rest_load() -> None:
    with jarvis_vision.Client(plugin_dir=FIXTURE_PLUGIN_DIR, close_at_exit=False) as client:
        assert {p.name for p in client.plugins} == {"echo", "throwing"}
        reasons = {f.path.name: f.reason for f in client.plugin_errors}
        assert set(reasons) == {"not_elf.so", "no_entry_point.so", "refuses_major.so", "small_table.so"}
        assert "does not export jarvis_vision_plugin" in reasons["no_entry_point.so"]
        assert "refuses ABI major 1" in reasons["refuses_major.so"]
        assert "smaller than" in reasons["small_table.so"]
        assert "cannot load it" in reasons["not_elf.so"]
        # The loadout routes to frame_slicer, which this folder does not have: named, not a crash.
        with pytest.raises(jarvis_vision.PluginNotFoundError, match="routes to plugin 'frame_slicer'"):
            client.provider("vllm://m")


def test_a_config_that_is_not_a_mapping_or_not_json_is_a_config_error() -> None:
    with pytest.raises(jarvis_vision.ConfigError, match="must be a mapping"):
        jarvis_vision.Client(["endpoint"])  # type: ignore[arg-type]
    with pytest.raises(jarvis_vision.ConfigError, match="plugin_dir|not valid|must be"):
        jarvis_vision.Client({"endpoint": {"base_url": 5}}, plugin_dir=PLUGIN_DIR).provider()
    assert os.fspath(PLUGIN_DIR)
