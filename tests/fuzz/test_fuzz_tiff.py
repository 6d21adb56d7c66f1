"""Fuzzing the TIFF decoder: hostile bytes end in a FormatError, never a crash.

Inputs: random bytes, and every bit depth and compression charbench meets (1- and 8-bit; raw, packbits, LZW,
deflate, group 4) damaged byte-wise and cut at every length. Both paths are covered: the struct-based fast path for
plain pages and Pillow for the rest. A successful decode is a ``uint8 [H, W]`` page whose shape ``tiff_size`` agrees
with. HPL file names parse to integers or to None.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import CharbenchError, FormatError
from charbench.io.tiff import decode_tiff, page_count_hint, parse_hpl_name, tiff_size
from charbench.synth.tiff import tiff_bytes

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPRESSIONS = ["raw", "packbits", "tiff_lzw", "tiff_deflate"]
IMAGE = (np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)
SEEDS = {(bits, c): tiff_bytes(IMAGE, bits=bits, compression=c) for bits in (1, 8) for c in COMPRESSIONS}
SEEDS[1, "group4"] = tiff_bytes(IMAGE, bits=1, compression="group4")


def check_decoders(data: bytes) -> None:
    """Every entry point on ``data``: results are well-typed and agree; failures are messages, not crashes."""
    results = {}
    for name, fn in (
        ("decode", decode_tiff),
        ("size", tiff_size),
        ("verified", lambda d: tiff_size(d, verify=True)),
        ("pages", page_count_hint),
    ):
        try:
            results[name] = fn(data)
        except CharbenchError as exc:
            assert str(exc).strip(), f"{name}: {type(exc).__name__} without a message"
    page = results.get("decode")
    if page is not None:
        assert isinstance(page, np.ndarray) and page.dtype == np.uint8 and page.ndim == 2 and page.size > 0
        assert results.get("verified") == page.shape, "tiff_size(verify=True) disagrees with decode_tiff"
    if "verified" in results and "size" in results:
        assert results["verified"] == results["size"]
    assert results.get("pages") in (None, True, False)


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"II*\x00")
@example(data=b"II*\x00\xff\xff\xff\xff")  # first IFD past the end
@example(data=b"MM\x00+\x00\x08\x00\x00" + bytes(16))  # BigTIFF: left to Pillow
@example(data=b"II*\x00\x08\x00\x00\x00\xff\xff" + bytes(8))  # 65535 entries announced
def test_random_bytes(data):
    check_decoders(data)


@FUZZ
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    ops=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_bytes(seed, ops):
    buf = bytearray(SEEDS[seed])
    for kind, pos, value in ops:
        at = pos % (len(buf) + 1)
        if kind == 0:
            del buf[at:]
        elif kind == 1 and buf:
            buf[at % len(buf)] ^= value or 1
        elif kind == 2:
            buf[at:at] = bytes([value]) * (value % 5 + 1)
        else:
            del buf[at : at + value % 16 + 1]
    check_decoders(bytes(buf))


def test_every_truncation_is_refused():
    for seed in (SEEDS[1, "raw"], SEEDS[8, "raw"], SEEDS[8, "tiff_lzw"]):
        for n in range(len(seed)):
            try:
                page = decode_tiff(seed[:n])
            except FormatError as exc:
                assert str(exc).strip()
            else:  # only a cut inside trailing bytes nothing points to can still decode, and then exactly
                np.testing.assert_array_equal(page, decode_tiff(seed))


HPL_NAME = r"(usr_?[0-9\u0660-\u0669]{1,3}/)?\d{1,4}t\d{1,3}(\.usr_?\d{1,3})?\.tiff?"


@FUZZ
@given(rel=st.one_of(st.text(max_size=30), st.from_regex(HPL_NAME, fullmatch=True)))
@example(rel="usr_\u0663/154t05.tiff")
def test_hpl_names(rel):
    name = parse_hpl_name(rel)
    assert name is None or all(isinstance(v, int) and v >= -1 for v in (name.label, name.sample, name.writer))
