"""The documents' JSON schemas (docs/schemas, version 1) against what the plugins really read and write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import jarvis_vision
from conftest import MODEL, SOURCE_DIR, Emulator

SCHEMAS = SOURCE_DIR / "docs" / "schemas"


def validator(name: str) -> jsonschema.Draft202012Validator:
    store = {}
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        store[schema["$id"]] = schema
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def test_every_schema_is_valid_and_says_its_version() -> None:
    names = sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    assert names == ["ask_result.schema.json", "configuration.schema.json", "conversation.schema.json",
                     "plan_result.schema.json", "request.schema.json"]
    for name in names:
        schema = json.loads((SCHEMAS / name).read_text())
        assert "version 1" in schema["title"]
        validator(name.removesuffix(".schema.json"))


@pytest.mark.parametrize("loadout", [f"vllm://{MODEL}", f"vllm://{MODEL}#nativevideo#delivery=frames",
                                     f"vllm://{MODEL}#nativevideo#delivery=data"])
def test_plans_asks_and_follow_ups_match_their_schemas(emulator: Emulator, videos: dict[str, Path], loadout: str) -> None:
    config: dict[str, Any] = {**emulator.config(), "conversation": {"media": "reference", "cache_mb": 64},
                              "frames": {"jpeg_quality": 4}}
    validator("configuration").validate(config)
    with jarvis_vision.Client(config) as client:
        provider = client.provider(loadout)
        request = provider._request(videos["clip"], "What happens?", {}, None)
        validator("request").validate(request)
        validator("plan_result").validate(provider.plan(videos["clip"], "What happens?"))
        first = provider.ask(videos["clip"], "What happens?")
        validator("ask_result").validate(first)
        follow_up_request = provider._request(None, "And then?", {"conversation": first["conversation"]}, None)
        validator("request").validate(follow_up_request)
        validator("plan_result").validate(provider.plan(None, "And then?", conversation=first["conversation"]))
        validator("ask_result").validate(provider.ask(None, "And then?", conversation=first["conversation"]))


def test_the_schemas_refuse_what_the_plugins_refuse() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator("configuration").validate({"frames": {"jpeg_quality": 40}})
    with pytest.raises(jsonschema.ValidationError):
        validator("configuration").validate({"vllm": {"image": "vllm/vllm-openai:latest"}})
    with pytest.raises(jsonschema.ValidationError):
        validator("request").validate({"prompt": "no video and no conversation"})
    with pytest.raises(jsonschema.ValidationError):
        validator("conversation").validate({"version": 2, "plugin": "frame_slicer", "video": "v", "loadout": "l",
                                            "media_key": "0" * 64, "turns": [{"prompt": "p", "answer": "a"}]})
