"""NumPy ``.npz`` archives (KMNIST, Kuzushiji-49): one array member, extracted once and memory-mapped."""

from __future__ import annotations

import lzma
import tempfile
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from charbench.errors import FormatError


def open_npz_array(path: str | Path, key: str | None = None, workdir: Path | None = None) -> np.ndarray:
    """The array ``key`` (default: the only one, e.g. ``arr_0``) of an npz file, memory-mapped read-only."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.endswith(".npy")]
            if not members:
                raise FormatError(f"{path}: npz archive holds no arrays")
            if key is None and len(members) > 1:
                raise FormatError(f"{path}: npz holds several arrays ({', '.join(members)}); name one")
            member = members[0] if key is None else f"{key}.npy"
            if member not in members:
                raise FormatError(f"{path}: npz has no array {key!r} (it has {', '.join(members)})")
            out = Path(workdir or tempfile.mkdtemp(prefix="charbench-npz-")) / f"{path.stem}.{member}"
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(out, "wb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
    # RuntimeError: encrypted or unsupported (NotImplementedError) entries; ValueError: undecodable names
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise FormatError(f"{path}: not a readable npz archive ({exc})") from None
    try:
        return np.load(out, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError, OSError, SyntaxError, tokenize.TokenError) as exc:  # EOFError: an empty .npy member
        raise FormatError(f"{path}: array {member} is unreadable ({exc})") from None
