"""Where charbench keeps raw downloads and prepared datasets when no folder is given."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CHARBENCH_DATA"


def data_root(override: str | os.PathLike | None = None) -> Path:
    """The data root: ``override``, else ``$CHARBENCH_DATA``, else the platform cache folder."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    if os.name == "nt":
        cache = os.environ.get("LOCALAPPDATA", str(Path.home() / "AppData" / "Local"))
    return Path(cache) / "charbench"


def raw_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """Folder that ``charbench fetch NAME`` downloads into."""
    return data_root(root) / "raw" / name


def prepared_root(root: str | os.PathLike | None = None) -> Path:
    """Folder holding one sub-folder per prepared dataset (each with its index.json)."""
    return data_root(root) / "prepared"
