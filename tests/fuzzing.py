"""Shared by the fuzz tests: byte-level mutations (hypothesis draws the edit list), the outcome of a reader on bad
input, and a run under a capped address space."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import strategies as st

from charbench.errors import CharbenchError

EDITS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=4)


def mutate(data: bytes, ops: list[tuple[int, int, int]], span: int = 16, block: int = 16) -> bytes:
    """Apply (kind, position, value) edits: truncate, xor one byte, insert bytes, delete up to ``span`` bytes,
    copy a block of ``block`` bytes from elsewhere in the data."""
    buf = bytearray(data)
    for kind, pos, value in ops:
        at = pos % (len(buf) + 1)
        if kind == 0:
            del buf[at:]
        elif kind == 1 and buf:
            buf[at % len(buf)] ^= value % 255 + 1
        elif kind == 2:
            buf[at:at] = bytes([value % 256]) * (value % 7 + 1)
        elif kind == 3:
            del buf[at : at + value % span + 1]
        elif kind == 4 and buf:
            src = value % len(buf)
            buf[at:at] = buf[src : src + block]
    return bytes(buf)


def outcome(fn, name):
    """``fn(name)``, or None when it raised a CharbenchError whose message names ``name``; anything else fails."""
    try:
        return fn(name)
    except CharbenchError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        assert str(name) in str(exc), f"message does not name {name}: {exc}"
        return None


_CAP_PRELUDE = """
import resource

def cap_address_space(extra=64 * 2**20):
    \"\"\"From here on, the process may grow by ``extra`` bytes at most: a reader sizing a buffer from a header dies.\"\"\"
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            cap = int(line.split()[1]) * 1024 + extra
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
"""


def run_with_capped_memory(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` (indented as written) in a fresh interpreter with ``cap_address_space()`` defined for it."""
    argv = [sys.executable, "-c", _CAP_PRELUDE + textwrap.dedent(script), *args]
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
