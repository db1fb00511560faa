"""A Jarvis model implementation that answers questions about a video through jarvis-vision.

Shaped like the implementations in Jarvis's utils/engine/implementations/models.py (execute_openai_chat): it reads
its inputs from async packet streams, and puts Jarvis's events on the output queue:
{"type": "text_token", "content", "seq", "ts"} for each piece of a streamed answer, or one
{"type": "text_final", "content", "ts"} when the binding does not stream. The video input is the stream whose
packet content is a path to an existing file (or an http(s) URL); the other inputs make the prompt, as in Jarvis.

Register it where Jarvis maps implementations to nodes; the node's binding id is the loadout
("vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ#nativevideo#stream#ctx=16384") and its port vLLM's (8300).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, AsyncIterator, Mapping, Optional

import jarvis_vision

_clients: dict[str, jarvis_vision.Client] = {}


def client_for(base_url: str, jarvis_config: Optional[Mapping[str, Any]] = None) -> jarvis_vision.Client:
    """One Client (plugins loaded once) per endpoint, for the life of the process."""
    client = _clients.get(base_url)
    if client is None or client.closed:
        config = {**(jarvis_config or {}), "endpoint": {"base_url": base_url}}
        client = _clients[base_url] = jarvis_vision.Client(config)
    return client


async def _read_inputs(input_streams: Mapping[str, AsyncIterator[Optional[Mapping[str, Any]]]]) -> tuple[Optional[str], str]:
    video: Optional[str] = None
    texts: list[str] = []
    for stream in input_streams.values():
        content = ""
        async for packet in stream:
            if packet is None:
                break
            value = packet.get("content", "")
            if isinstance(value, (str, os.PathLike)) and (os.path.isfile(value) or str(value).startswith(("http://", "https://"))):
                video = os.fspath(value)
            elif value:
                content += str(value)
        if content:
            texts.append(content)
    return video, "\n".join(texts)


async def execute_jarvis_vision(node_id: str, input_streams: Mapping[str, AsyncIterator[Optional[Mapping[str, Any]]]],
                                config: Mapping[str, Any], output_queue: "asyncio.Queue[dict[str, Any]]",
                                session: Any = None) -> dict[str, Any]:
    """Answers the prompt about the video; returns jarvis-vision's result document (usage, timings, media)."""
    video, prompt = await _read_inputs(input_streams)
    if video is None:
        raise ValueError(f"{node_id}: no video among its inputs")
    binding = config.get("binding", {})
    loadout = str(binding.get("id", jarvis_vision.DEFAULT_LOADOUT))
    client = client_for(f"http://127.0.0.1:{binding.get('port', 8300)}/v1", config.get("jarvis_config"))
    provider = client.provider(loadout)
    streaming = bool(config.get("output_streaming", "#stream" in loadout.lower()))
    if not streaming:
        result = await provider.ask_async(video, prompt or "What happens in this video?")
        await output_queue.put({"type": "text_final", "content": result["answer"], "ts": time.perf_counter()})
        return result

    seq = 0
    async with provider.stream(video, prompt or "What happens in this video?") as answer:
        async for piece in answer:
            await output_queue.put({"type": "text_token", "content": piece, "seq": seq, "ts": time.perf_counter()})
            seq += 1
    assert answer.result is not None
    return answer.result
