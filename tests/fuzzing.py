"""Byte-level mutations shared by the fuzz tests (hypothesis draws the edit list)."""

from __future__ import annotations

from hypothesis import strategies as st

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
