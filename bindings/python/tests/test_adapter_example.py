"""examples/jarvis_adapter.py, driven the way Jarvis drives a model implementation, against the emulator."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any, AsyncIterator, Callable, Optional
from urllib.parse import urlparse

from conftest import MODEL, SOURCE_DIR, Emulator


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jarvis_adapter", SOURCE_DIR / "bindings/python/examples/jarvis_adapter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def packets(*contents: str) -> AsyncIterator[Optional[dict[str, Any]]]:
    for content in contents:
        yield {"content": content}
    yield None


def test_the_adapter_puts_jarvis_token_events_on_the_queue(start_emulator: Callable[..., Emulator],
                                                           videos: dict[str, Path]) -> None:
    emulator = start_emulator("--answer-padding-bytes", "300")
    adapter = load_example()
    port = urlparse(emulator.base_url).port

    async def main() -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        config = {"binding": {"id": f"vllm://{MODEL}#nativevideo#stream#ctx=16384", "port": port}, "output_streaming": True}
        result = await adapter.execute_jarvis_vision("vlm", {"video": packets(str(videos["clip"])), "prompt": packets("What moves?")},
                                                     config, queue)
        events = [queue.get_nowait() for _ in range(queue.qsize())]
        assert len(events) > 3
        assert [e["seq"] for e in events] == list(range(len(events)))
        assert all(e["type"] == "text_token" and isinstance(e["ts"], float) for e in events)
        assert "".join(e["content"] for e in events) == result["answer"]
        assert json.loads(result["answer"])["videos"], "the server received the video"
        assert result["plugin"] == "native_video"

        config["output_streaming"] = False
        result = await adapter.execute_jarvis_vision("vlm", {"video": packets(str(videos["clip"]))}, config, queue)
        final = queue.get_nowait()
        assert final["type"] == "text_final" and final["content"] == result["answer"]
        for client in adapter._clients.values():
            client.close()

    asyncio.run(main())
