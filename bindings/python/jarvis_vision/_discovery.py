"""Where the plugins are: an explicit folder, else JARVIS_VISION_PLUGIN_DIR, else the layouts the package ships in."""

from __future__ import annotations

import os
from pathlib import Path

from ._platform import PLUGIN_SUFFIX
from .errors import PluginNotFoundError

ENV_VAR = "JARVIS_VISION_PLUGIN_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _default_candidates() -> list[Path]:
    # 1. Bundled: the package built by CMake (build/<preset>/python) and the Windows distribution carry the plugins
    #    inside the package, so a `pip install` of either needs no configuration.
    candidates = [_PACKAGE_DIR / "plugins"]
    # 2. A source checkout (bindings/python/jarvis_vision): the build trees beside it, release first.
    repo = _PACKAGE_DIR.parent.parent.parent
    if (repo / "plugin_api").is_dir():
        candidates += [repo / "build" / preset / "lib" / "jarvis" / "plugins" for preset in ("release", "debug")]
    return candidates


def _why_not(folder: Path) -> str | None:
    """None when `folder` holds plugins, else why it does not."""
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is not a folder"
    if not any(p.suffix == PLUGIN_SUFFIX for p in folder.iterdir()):
        return f"has no {PLUGIN_SUFFIX} files"
    return None


def find_plugin_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The plugin folder to load from. Raises PluginNotFoundError naming every place it looked and why each failed."""
    if explicit is not None:
        candidates, origin = [Path(explicit)], "plugin_dir"
    elif os.environ.get(ENV_VAR):
        candidates, origin = [Path(os.environ[ENV_VAR])], ENV_VAR
    else:
        candidates, origin = _default_candidates(), "the package's layouts"
    looked = []
    for folder in candidates:
        reason = _why_not(folder)
        if reason is None:
            return folder.resolve()
        looked.append(f"{folder} ({reason})")
    raise PluginNotFoundError(
        f"no jarvis-vision plugins found ({origin}); looked in: " + "; ".join(looked)
        + f". Pass plugin_dir=, set {ENV_VAR}, or install the package the build lays out (build/<preset>/python)"
    )
