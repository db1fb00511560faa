"""Jarvis's own strings and configuration, as they stand in its repository, route and run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import jarvis_vision
from conftest import HOST, MODEL, Emulator

# From Jarvis's system_config/loadouts.yaml and tests/plans/*.yaml (the VL_ prefix there is the plan's, not the loadout's).
JARVIS_LOADOUTS = [
    f"vllm://{MODEL}#ctx=32768",
    f"vllm://{MODEL}#stream",
    f"vllm://{MODEL}#nativevideo#stream#ctx=16384",
    f"vllm://{MODEL}#nativevideo#ctx=16384#vid_lim=2",
    f"vllm://{MODEL}#nativevideo#stream#vid_lim=1#ctx=65536",
    "vllm://Qwen/Qwen2-VL-2B-Instruct#stream",
    f"vllm://{MODEL}#nativeVideo",
    f"vllm://{MODEL}#NATIVEVIDEO#img_lim=8",
    f"vllm://{MODEL}#nativevideo=false",
    f"vllm://{MODEL}#nativvideo",
]

# Typed by hand or read from YAML with spaces and line ends around the parts: routed as if they were not there.
SPACED_LOADOUTS = [
    f"vllm://{MODEL} #nativevideo",
    f" vllm://{MODEL} # nativevideo = true #ctx=16384\n",
    f"vllm://{MODEL}#nativevideo = off ",
    f"vllm://{MODEL}\t#stream",
]

# The head of Jarvis's system_config/config.yaml as its host loads it (yaml.safe_load), handed over whole.
JARVIS_CONFIG: dict[str, Any] = {
    "device": "cuda",
    "paths": {"venv_python": "jarvis-venv/Scripts/python.exe"},
    "mapping_preference": "prefer_big",
    "ports": {"ollama": 11434, "vllm": 8300},
    "vllm": {"model_startup_timeout": 800, "check_docker": True, "default_context_size": 16384,
             "model_mm_limit_map": {"default": '{"image": 8}'}},
    "system": {"health_check_interval": 1.0, "mock_startup_range": [1.5, 3.0]},
}


def jarvis_parse_model_string(entry: str) -> dict[str, Any]:
    """Jarvis's utils/config.py:parse_model_string, as it is in its repository (values typed, ctx renamed)."""
    engine, rest = entry.split("://", 1)
    parts = rest.split("#")
    flags: dict[str, Any] = {}
    for f in parts[1:]:
        if "=" in f:
            k, v = f.split("=", 1)
            value: Any = int(v) if v.isdigit() else (float(v) if "." in v else v)
            if value == "true":
                value = True
            elif value == "false":
                value = False
            flags[k.lower()] = value
        else:
            flags[f.lower()] = True
    if "ctx" in flags:
        flags["num_ctx"] = flags.pop("ctx")
    return {"id": parts[0], "engine": engine.lower(), "params": flags}


@pytest.mark.parametrize("loadout", JARVIS_LOADOUTS + SPACED_LOADOUTS)
def test_routing_agrees_with_jarvis_host(loadout: str) -> None:
    out = subprocess.run([HOST, "--loadout", loadout, "plugins", "--json"], capture_output=True, text=True, check=True)
    selected = [p["name"] for p in json.loads(out.stdout)["plugins"] if p["selected"]]
    assert [jarvis_vision.plugin_for(loadout)] == selected
    # Jarvis's parsed form routes the same.
    assert jarvis_vision.plugin_for(jarvis_vision.from_jarvis(jarvis_parse_model_string(loadout))) == selected[0]


def test_jarvis_loadouts_and_config_plan_with_their_jarvis_meaning(emulator: Emulator, videos: dict[str, Path]) -> None:
    config = {**JARVIS_CONFIG, **emulator.config()}
    with jarvis_vision.Client(config) as client:
        for loadout in JARVIS_LOADOUTS[:6]:
            provider = client.provider(loadout)
            plan = provider.plan(videos["clip"], "What happens?")
            assert plan["plugin"] == provider.name == jarvis_vision.plugin_for(loadout)
            assert plan["request"]["stream"] is ("#stream" in loadout)
            # The only warning is the one line naming Jarvis's keys this module leaves alone.
            assert len(plan["warnings"]) == 1, plan["warnings"]
            assert "keys jarvis-vision does not use are ignored: device, mapping_preference, paths, system" in plan["warnings"][0]
        # Jarvis's parsed dict works where a string does.
        parsed = jarvis_parse_model_string(f"vllm://{MODEL}#nativevideo#stream#ctx=16384")
        assert client.provider(parsed).plan(videos["clip"], "What happens?")["plugin"] == "native_video"


def test_the_defaults_are_jarvis_s_port_and_container() -> None:
    with jarvis_vision.Client() as client:
        plan_endpoint = client.vram()  # loads without an endpoint; vllm_command shows the launch
        assert plan_endpoint["fits"] in (True, False)
        command = client.vllm_command()
        assert "--name vllm-server" in command and "-p 8300:8000" in command


def test_a_misspelled_flag_warns_and_says_which_plugin_answered(emulator: Emulator, videos: dict[str, Path]) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(f"vllm://{MODEL}#nativvideo#colour=red")
        assert provider.name == "frame_slicer"
        plan = provider.plan(videos["clip"], "What happens?")
        text = "\n".join(plan["warnings"])
        assert "unknown flag '#nativvideo' is ignored (did you mean #nativevideo?)" in text
        assert "the frame_slicer plugin answers" in text
        assert "unknown key 'colour' is ignored" in text
