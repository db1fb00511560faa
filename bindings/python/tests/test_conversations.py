"""Follow-up questions about the same video: the conversation a result carries, continued through Python and
jarvis-host, against the emulator's multimodal processor cache and prefix report."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest

import jarvis_vision
from conftest import HOST, MODEL, Emulator

NATIVE = f"vllm://{MODEL}#nativevideo"
SLICER = f"vllm://{MODEL}"


def seen(result: dict[str, Any]) -> dict[str, Any]:
    """What the emulator decoded: its answer describes the media it received."""
    return json.loads(result["answer"])


def report(emulator: Emulator, request: int) -> dict[str, Any]:
    """The emulator's report of chat request `request`: each media item (fetched or from its processor cache) and
    the prompt tokens shared with the previous request."""
    marker = f"chat request {request} report "
    log = emulator.wait_for_log(marker)
    line = next(line for line in log.splitlines() if marker in line)
    return json.loads(line.split(marker, 1)[1])


def uuids(plan: dict[str, Any]) -> list[str]:
    return [part["uuid"] for message in plan["request"]["messages"] if isinstance(message["content"], list)
            for part in message["content"] if "uuid" in part]


@pytest.mark.parametrize("loadout", [SLICER, NATIVE + "#delivery=frames", NATIVE + "#delivery=data"])
def test_a_follow_up_repeats_the_first_question_byte_for_byte_and_shares_its_whole_prefix(
        emulator: Emulator, videos: dict[str, Path], loadout: str) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(loadout)
        first_plan = provider.plan(videos["clip"], "What happens?")
        first = provider.ask(videos["clip"], "What happens?")
        follow_up_plan = provider.plan(None, "And then?", conversation=first["conversation"])
        follow_up = provider.ask(None, "And then?", conversation=first["conversation"])

    first_message = json.dumps(first_plan["request"]["messages"][0], sort_keys=True)
    assert json.dumps(follow_up_plan["request"]["messages"][0], sort_keys=True) == first_message
    assert [m["role"] for m in follow_up_plan["request"]["messages"]] == ["user", "assistant", "user"]
    assert follow_up_plan["request"]["messages"][1]["content"] == first["answer"]
    assert follow_up_plan["request"]["messages"][2]["content"] == "And then?"
    # The server saw the earlier request repeated whole, and took the media from its cache.
    follow_up_report = report(emulator, 2)
    assert follow_up_report["prefix"]["shared_tokens"] == follow_up_report["prefix"]["previous_tokens"] > 0
    assert follow_up_report["media"] and all(item["processor_cache"] == "hit" for item in follow_up_report["media"])
    assert [item["uuid"] for item in follow_up_report["media"]] == uuids(first_plan)
    assert [t["prompt"] for t in follow_up["conversation"]["turns"]] == ["What happens?", "And then?"]
    assert follow_up["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]


@pytest.mark.parametrize("loadout", [SLICER, NATIVE + "#delivery=frames"])
def test_a_follow_up_in_the_same_process_decodes_nothing(emulator: Emulator, videos: dict[str, Path], loadout: str) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(loadout)
        first = provider.ask(videos["long"], "What happens?", max_frames=8)
        stages: list[str] = []
        follow_up = provider.ask(None, "Who is there?", conversation=first["conversation"],
                                 on_progress=lambda stage, fraction: stages.append(stage))
    assert first["conversation_media"]["client_cache"] == "miss"
    assert follow_up["conversation_media"]["client_cache"] == "hit"
    assert "decode" not in " ".join(stages) and "index" not in " ".join(stages), stages


def test_a_follow_up_about_a_video_on_another_drive_uses_the_copy_made_for_the_first_question(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path], tmp_path: Path) -> None:
    # The shared volume on the temporary directory's filesystem, the video on tmpfs (another filesystem, as another
    # drive is): staging copies it. The emulator reads the volume where the plugin writes it.
    volume = tmp_path / "input_data"
    volume.mkdir()
    staging = volume / ".jarvis-staging"
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other_drive:
        video = Path(shutil.copy(videos["clip"], Path(other_drive) / "recording.mp4"))
        emulator = start_emulator("--allowed-local-media-path", str(volume))
        config = emulator.config(input_data={"host_path": str(volume), "container_path": str(volume)})
        with jarvis_vision.Client(config) as client:
            provider = client.provider(NATIVE + "#delivery=file")
            first_stages: list[str] = []
            first = provider.ask(video, "What happens?", on_progress=lambda stage, fraction: first_stages.append(stage))
            kept = sorted(staging.iterdir())
            follow_up_plan = client.provider(NATIVE + "#delivery=file").plan(None, "And then?",
                                                                            conversation=first["conversation"])
            stages: list[str] = []
            follow_up = client.provider(NATIVE + "#delivery=file").ask(
                None, "And then?", conversation=first["conversation"], on_progress=lambda stage, fraction: stages.append(stage))
            after_follow_up = sorted(staging.iterdir())
        after_close = sorted(staging.iterdir())

    assert first["media"]["staged_copy"] == "made" and "staging" in first_stages
    assert len(kept) == 1, kept
    assert any("the copy made for an earlier question is used" in w for w in follow_up_plan["warnings"])
    assert follow_up_plan["request"]["messages"][0]["content"][0]["video_url"]["url"].endswith(kept[0].name)
    assert follow_up["media"]["staged_copy"] == "reused" and "staging" not in stages, stages
    assert after_follow_up == kept
    digest = hashlib.sha256(videos["clip"].read_bytes()).hexdigest()
    assert seen(first)["videos"][0]["sha256"] == seen(follow_up)["videos"][0]["sha256"] == digest
    assert after_close == []  # removed with the last provider


def test_without_a_client_cache_the_frames_are_made_again_identically(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    emulator = start_emulator()
    with jarvis_vision.Client(emulator.config(conversation={"cache_mb": 0})) as client:
        provider = client.provider(SLICER)
        first = provider.ask(videos["clip"], "What happens?")
        follow_up = provider.ask(None, "And then?", conversation=first["conversation"])
    assert follow_up["conversation_media"]["client_cache"] == "miss"
    assert [i["sha256"] for i in seen(follow_up)["images"]] == [i["sha256"] for i in seen(first)["images"]]
    prefix = report(emulator, 2)["prefix"]
    assert prefix["shared_tokens"] == prefix["previous_tokens"]


@pytest.mark.parametrize("loadout", [SLICER, NATIVE + "#delivery=data"])
def test_by_reference_a_follow_up_sends_no_media_and_a_cache_miss_is_retried_once_with_it(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path], loadout: str) -> None:
    emulator = start_emulator()
    config = emulator.config(conversation={"media": "reference"})
    with jarvis_vision.Client(config) as client:
        first = client.provider(loadout).ask(videos["clip"], "What happens?")
        follow_up = client.provider(loadout).ask(None, "And then?", conversation=first["conversation"])
    assert follow_up["conversation_media"] == {"mode": "reference", "resent": False, "client_cache": "hit"} or \
        follow_up["conversation_media"] == {"mode": "reference", "resent": False}
    assert all(item["media"] == "cache" for item in report(emulator, 2)["media"])
    sizes = [int(line.split("(")[1].split()[0]) for line in emulator.log.splitlines() if "received" in line]
    assert sizes[1] < 16 * 1024 < sizes[0], sizes

    # A restarted server has lost the media: the follow-up goes once more, with it, and says why.
    restarted = start_emulator()
    with jarvis_vision.Client(restarted.config(conversation={"media": "reference"})) as client:
        again = client.provider(loadout).ask(None, "Who is there?", conversation=follow_up["conversation"])
    assert again["conversation_media"]["resent"] is True
    assert "Cache miss for" in again["conversation_media"]["reason"]
    assert "chat request 2 report" in restarted.wait_for_log("chat request 2 report")  # the refused one has none
    assert all(item["media"] == "fetched" for item in report(restarted, 2)["media"])
    assert len(again["conversation"]["turns"]) == 3


def test_a_server_without_a_processor_cache_gets_the_media_every_time(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    emulator = start_emulator("--mm-processor-cache-gb", "0")
    with jarvis_vision.Client(emulator.config(conversation={"media": "reference"})) as client:
        provider = client.provider(NATIVE + "#delivery=frames")
        first = provider.ask(videos["clip"], "What happens?")
        follow_up = provider.ask(None, "And then?", conversation=first["conversation"])
    assert [i["processor_cache"] for i in report(emulator, 1)["media"]] == ["off"]
    assert follow_up["conversation_media"]["resent"] is True


def run_host(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOST, *args], capture_output=True, text=True, timeout=120)


def test_uuids_are_stable_across_processes_and_change_with_the_file_or_the_sampling(
        emulator: Emulator, videos: dict[str, Path], tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    shutil.copy(videos["clip"], video)

    def plan_uuids(*extra: str) -> list[str]:
        run = run_host("--endpoint", emulator.base_url, *extra, "plan", "--video", str(video), "--prompt", "?", "--json")
        assert run.returncode == 0, run.stderr
        return uuids(json.loads(run.stdout))

    first = plan_uuids()
    assert len(first) == 4 and len(set(first)) == 4
    assert plan_uuids() == first  # another process, the same media: the same uuids
    assert plan_uuids("--loadout", SLICER + "#fps=1") != first
    assert not set(plan_uuids("--loadout", NATIVE + "#delivery=frames")) & set(first)
    os.utime(video, (1_000_000_000, 1_000_000_000))  # the file changed (as far as anyone can tell without reading it)
    assert not set(plan_uuids()) & set(first)


def test_jarvis_host_continues_from_a_previous_ask_json(emulator: Emulator, videos: dict[str, Path],
                                                       tmp_path: Path) -> None:
    first = run_host("--endpoint", emulator.base_url, "--loadout", NATIVE + "#delivery=frames", "ask", "--video",
                     str(videos["clip"]), "--prompt", "What happens?", "--json")
    assert first.returncode == 0, first.stderr
    (tmp_path / "first.json").write_text(first.stdout)
    # Streamed output (deltas, then the result on the last line) continues as well.
    second = run_host("--endpoint", emulator.base_url, "ask", "--continue", str(tmp_path / "first.json"), "--prompt",
                      "And then?", "--stream", "--json")
    assert second.returncode == 0, second.stderr
    (tmp_path / "second.json").write_text(second.stdout)
    third = run_host("--endpoint", emulator.base_url, "ask", "--continue", str(tmp_path / "second.json"), "--prompt",
                     "Who?", "--json")
    assert third.returncode == 0, third.stderr
    result = json.loads(third.stdout)
    assert result["plugin"] == "native_video"  # routed by the conversation, not the default loadout
    assert [t["prompt"] for t in result["conversation"]["turns"]] == ["What happens?", "And then?", "Who?"]
    prefix = report(emulator, 3)["prefix"]
    assert prefix["shared_tokens"] == prefix["previous_tokens"] > 0


@pytest.mark.parametrize("loadout", [SLICER, NATIVE + "#delivery=frames"])
def test_the_oldest_answers_are_left_out_then_the_frames_reduced_then_a_clear_refusal(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path], loadout: str) -> None:
    emulator = start_emulator("--answer-padding-bytes", "6000")
    with jarvis_vision.Client(emulator.config()) as client:
        provider = client.provider(loadout + "#max_frames=4#max_tokens=2000")
        first = provider.ask(videos["clip"], "What happens?")
        second = provider.ask(None, "And then?", conversation=first["conversation"])
        # Room for max_tokens and the newest answer (about 2000 tokens each) with its message, not for two answers.
        budget = first["estimate"]["prompt_tokens"] + 2000 + second["usage"]["completion_tokens"] + 60
        plan = provider.plan(None, "Who?", conversation=second["conversation"], ctx=budget)
        assert plan["conversation"]["answers_left_out"] == 1
        assert any("oldest answer" in w for w in plan["warnings"])
        messages = plan["request"]["messages"]
        assert [m["role"] for m in messages] == ["user", "user", "assistant", "user"]
        assert messages[2]["content"] == second["answer"]  # the newest answer stays
        # Leaving out every answer is not enough: then fewer frames, kept by the conversation's later questions.
        visual = first["estimate"]["visual_tokens"]
        tight = first["estimate"]["prompt_tokens"] - visual // 2 + 2000 + 60
        reduced = provider.ask(None, "Who?", conversation=second["conversation"], ctx=tight)
        assert 1 <= len(reduced["media"]["frames"]) < len(first["media"]["frames"])
        assert any("frames instead of" in w for w in reduced["warnings"])
        assert reduced["conversation"]["max_frames"] == len(reduced["media"]["frames"])
        later = provider.plan(None, "Where?", conversation=reduced["conversation"], ctx=tight + 500)
        assert len(later["media"]["frames"]) == len(reduced["media"]["frames"])
        assert later["conversation"]["frames_reduced"] is False
        # And when not even one frame fits: a clear refusal, never the server's 400.
        with pytest.raises(jarvis_vision.ConfigError, match="no longer fits ctx"):
            provider.plan(None, "Who?", conversation=second["conversation"], ctx=first["estimate"]["prompt_tokens"] + 100)


def test_a_conversation_of_another_plugin_or_a_corrupted_one_is_a_clear_error(
        emulator: Emulator, videos: dict[str, Path], tmp_path: Path) -> None:
    with jarvis_vision.Client(emulator.config()) as client:
        first = client.provider(SLICER).ask(videos["clip"], "What happens?")
        with pytest.raises(jarvis_vision.ConfigError, match="belongs to the frame_slicer plugin"):
            client.provider(NATIVE).ask(None, "And then?", conversation=first["conversation"])
        for broken in ({**first["conversation"], "version": 99}, {**first["conversation"], "turns": []},
                       {**first["conversation"], "media_key": "nonsense"}, {"plugin": "frame_slicer"}):
            with pytest.raises(jarvis_vision.ConfigError, match="conversation"):
                client.provider(SLICER).ask(None, "And then?", conversation=broken)
        with pytest.raises(jarvis_vision.ConfigError, match="conversation must be"):
            client.provider(SLICER).ask(None, "And then?", conversation="not a dict")  # type: ignore[arg-type]
    (tmp_path / "not_a_result.json").write_text('{"answer": "no conversation here"}')
    run = run_host("ask", "--continue", str(tmp_path / "not_a_result.json"), "--prompt", "?")
    assert run.returncode == 2 and "has no conversation" in run.stderr
    run = run_host("ask", "--continue", str(tmp_path / "missing.json"), "--prompt", "?")
    assert run.returncode == 2 and "cannot read it" in run.stderr


def test_a_changed_video_cannot_be_continued(emulator: Emulator, videos: dict[str, Path], tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    shutil.copy(videos["clip"], video)
    with jarvis_vision.Client(emulator.config()) as client:
        first = client.provider(SLICER).ask(video, "What happens?")
        os.utime(video, (1_000_000_000, 1_000_000_000))
        with pytest.raises(jarvis_vision.MediaError, match="changed since its first question"):
            client.provider(SLICER).ask(None, "And then?", conversation=first["conversation"])


def test_a_follow_up_with_another_ctx_samples_the_video_as_the_first_question_did(
        start_emulator: Callable[..., Emulator], videos: dict[str, Path]) -> None:
    # No client cache: the follow-up samples again, with the first question's settings (its ctx chose the frames),
    # or the same uuids would name other frames.
    emulator = start_emulator()
    with jarvis_vision.Client(emulator.config(conversation={"cache_mb": 0})) as client:
        provider = client.provider(SLICER)
        first = provider.ask(videos["clip"], "What happens?", ctx=900)
        assert len(first["media"]["frames"]) < 4  # the small context took frames away
        follow_up = provider.plan(None, "And then?", conversation=first["conversation"], ctx=100000, max_tokens=64)
    assert follow_up["media"]["frames"] == first["media"]["frames"]
    assert follow_up["request"]["max_tokens"] == 64
    first_plan = provider_plan_of(emulator, videos["clip"])
    assert json.dumps(follow_up["request"]["messages"][0], sort_keys=True) == \
        json.dumps(first_plan["request"]["messages"][0], sort_keys=True)


def provider_plan_of(emulator: Emulator, video: Path) -> dict[str, Any]:
    with jarvis_vision.Client(emulator.config(conversation={"cache_mb": 0})) as client:
        return client.provider(SLICER).plan(video, "What happens?", ctx=900)
