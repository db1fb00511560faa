"""vllm_command, vram and probe: one implementation (the plugins' tools), the same answers as jarvis-host's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import jarvis_vision
from conftest import HOST, MODEL, PLUGIN_DIR, Emulator, make_video

CONFIG: dict[str, Any] = {
    "loadout": f"vllm://{MODEL}#nativevideo#ctx=32768#vid_lim=2",
    "input_data": {"host_path": "/srv/jarvis/input_data", "container_path": "/data"},
    "gpu": {"total_gb": 32},
}


def host(config_file: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOST, "--plugin-dir", str(PLUGIN_DIR), "--config", str(config_file), *args],
                          capture_output=True, text=True, check=check)


def test_vllm_command_and_vram_equal_jarvis_host_s(tmp_path: Path) -> None:
    config_file = tmp_path / "jarvis.json"
    config_file.write_text(json.dumps(CONFIG))
    with jarvis_vision.Client(CONFIG) as client:
        for fmt in ("docker", "compose", "args"):
            assert client.vllm_command(fmt).rstrip("\n") == host(config_file, "vllm-command", "--format", fmt).stdout.rstrip("\n")
        assert "--limit-mm-per-prompt.video 2" in client.vllm_command()
        assert client.vram() == {**json.loads(host(config_file, "vram", "--json").stdout), "warnings": []}
        try:
            client.vllm_command("helm")
        except jarvis_vision.ConfigError as e:
            assert "format 'helm' is not one of docker, compose, args" in str(e)
        else:
            raise AssertionError("an unknown format must be refused")


def test_probe_reports_every_delivery_as_jarvis_host_does(start_emulator: Callable[..., Emulator], tmp_path: Path) -> None:
    emulator = start_emulator()
    config = {**emulator.config(), "loadout": f"vllm://{MODEL}"}
    config_file = tmp_path / "jarvis.json"
    config_file.write_text(json.dumps(config))
    stages: list[str] = []
    with jarvis_vision.Client(config) as client:
        report = client.probe(on_progress=lambda stage, fraction: stages.append(stage))
    from_host = json.loads(host(config_file, "probe", "--json").stdout)
    assert report["ok"] is True and from_host["ok"] is True
    assert [d["delivery"] for d in report["deliveries"]] == [d["delivery"] for d in from_host["deliveries"]] == ["data", "frames"]
    assert [d["prompt_tokens"] for d in report["deliveries"]] == [d["prompt_tokens"] for d in from_host["deliveries"]]
    assert report["model_served"] is True
    assert "models" in stages and "delivery frames" in stages and "transfer rates" in stages
    # Only data works here: the upload is measured through it, padded with half its 64 MB limit.
    data = report["transfer_rates"]["data"]
    assert data["padding_mb"] == 33.554432 and "upload_mb_per_s" in data and "error" not in data
    assert "file" not in report["transfer_rates"] and "http" not in report["transfer_rates"]

    refusing = start_emulator("--limit-mm-per-prompt", '{"video": 0}')
    with jarvis_vision.Client(refusing.config()) as client:
        report = client.probe()
    assert report["ok"] is False
    assert all("--limit-mm-per-prompt.video 1" in d["advice"] for d in report["deliveries"])


def test_probe_measures_decoding_on_the_users_video(start_emulator: Callable[..., Emulator], tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mkv", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "6", "-c:v", "libx264",
                       "-preset", "ultrafast", "-bf", "2")
    emulator = start_emulator()
    with jarvis_vision.Client({**emulator.config(), "loadout": f"vllm://{MODEL}"}) as client:
        report = client.probe(video=video)
        decoding = report["server_decoding"]
        assert decoding["delivery"] == "data" and decoding["codec"] == "h264" and decoding["video"] == str(video)
        assert decoding["frame_size"] == "320x180" and decoding["frames_decoded"][1] > decoding["frames_decoded"][0]
        try:
            client.probe(video=tmp_path / "missing.mp4")
        except jarvis_vision.MediaError as e:
            assert "missing.mp4" in str(e)
        else:
            raise AssertionError("a missing video must be refused")
