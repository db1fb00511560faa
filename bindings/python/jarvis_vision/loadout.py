"""Routing by loadout, as jarvis-host does it: #nativevideo (any case, or nativevideo=true) picks native_video."""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ConfigError

DEFAULT_LOADOUT = "vllm://QuantTrio/Qwen3-VL-30B-A3B-Instruct-AWQ"
_TRUE = {"true", "on", "1"}
_FALSE = {"false", "off", "0"}


def plugin_for(loadout: str) -> str:
    """The plugin a loadout routes to. Only what routing needs is read here; the plugin parses the rest."""
    head, _, options = loadout.partition("#")
    if "://" not in head or head.startswith("://"):
        raise ConfigError(
            f"loadout '{loadout}': expected ENGINE://MODEL, for example {DEFAULT_LOADOUT}"
        )
    native = False
    for option in options.split("#") if options else []:
        key, eq, value = option.partition("=")
        key, value = key.strip(), value.strip()  # as the plugins parse it: spaces around parts are ignored
        if key.lower() != "nativevideo":
            continue
        if not eq:
            native = True
        elif value.lower() in _TRUE:
            native = True
        elif value.lower() in _FALSE:
            native = False
    return "native_video" if native else "frame_slicer"


def from_jarvis(parsed: Mapping[str, Any]) -> str:
    """A loadout string from what Jarvis's utils/config.py:parse_model_string returns ({id, engine, params})."""
    try:
        text = f"{parsed['engine']}://{parsed['id']}"
        params: Mapping[str, Any] = parsed.get("params", {})
    except (KeyError, TypeError) as e:
        raise ConfigError(f"not a parsed Jarvis model string (needs engine, id and params): {parsed!r}") from e
    for key, value in params.items():
        key = "ctx" if key == "num_ctx" else key
        if value is True:
            text += f"#{key}"
        elif value is not False:
            text += f"#{key}={value}"
    return text


def with_options(loadout: str, options: Mapping[str, Any]) -> str:
    """The loadout with keyword options (fps=1, seek="keyframe", fallback=False) in place of the same keys."""
    given = {k.lower() for k, v in options.items() if v is not None}
    if not given:
        return loadout
    head, *kept = loadout.split("#")
    kept = [o for o in kept if o.partition("=")[0].lower() not in given]
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "on" if value else "off"
        kept.append(f"{key}={value}")
    return "#".join([head, *kept])
