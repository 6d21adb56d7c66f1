"""Fuzzing the TIFF decoder: hostile bytes end in a FormatError, never a crash or an allocation sized by the header.

Inputs: random bytes, every bit depth and compression charbench meets (1- and 8-bit; raw, packbits, LZW, deflate,
group 4) damaged byte-wise, and IFD entries rewritten with edge-case types, counts and values (huge sides, offsets
past the end or before the start, strips of the wrong type). Both paths are covered: the struct-based fast path for
plain pages and Pillow for the rest. A successful decode is a ``uint8 [H, W]`` page whose shape ``tiff_size``
agrees with.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import CharbenchError, FormatError
from charbench.io.tiff import decode_tiff, page_count_hint, parse_hpl_name, tiff_size
from charbench.synth.tiff import tiff_bytes
from tests.fuzzing import EDITS, mutate, run_with_capped_memory

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPRESSIONS = ["raw", "packbits", "tiff_lzw", "tiff_deflate"]
IMAGE = (np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)
SEEDS = {(bits, c): tiff_bytes(IMAGE, bits=bits, compression=c) for bits in (1, 8) for c in COMPRESSIONS}
SEEDS[1, "group4"] = tiff_bytes(IMAGE, bits=1, compression="group4")
# Field types: integer ones the fast path reads, and ASCII / RATIONAL / float ones it skips (Pillow does not).
TYPES = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 16, 0, 99]
EDGE = [0, 1, 2, 7, 8, 255, 256, 32767, 32768, 65535, 2**31 - 1, 2**31, 2**32 - 8, 2**32 - 1]
TAGS = {
    "width": 256,
    "height": 257,
    "bits": 258,
    "compression": 259,
    "photometric": 262,
    "strip_offsets": 273,
    "samples": 277,
    "rows_per_strip": 278,
    "strip_byte_counts": 279,
}


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


def entries(data: bytes) -> list[int]:
    """Byte offsets of the first IFD's 12-byte entries (the seeds are little-endian, written by Pillow)."""
    ifd = struct.unpack_from("<I", data, 4)[0]
    return [ifd + 2 + 12 * i for i in range(struct.unpack_from("<H", data, ifd)[0])]


def rewrite(
    data: bytes, tag: int, kind: int | None = None, count: int | None = None, value: int | None = None
) -> bytes:
    """The TIFF with one IFD entry's type, count and/or 4-byte value replaced (all entries of ``tag``)."""
    buf = bytearray(data)
    for at in entries(data):
        if struct.unpack_from("<H", buf, at)[0] != tag:
            continue
        if kind is not None:
            struct.pack_into("<H", buf, at + 2, kind)
        if count is not None:
            struct.pack_into("<I", buf, at + 4, count)
        if value is not None:
            struct.pack_into("<I", buf, at + 8, value)
    return bytes(buf)


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
    ops=EDITS,
)
def test_mutated_bytes(seed, ops):
    check_decoders(mutate(SEEDS[seed], ops))


_RAW1, _RAW8, _LZW8 = SEEDS[1, "raw"], SEEDS[8, "raw"], SEEDS[8, "tiff_lzw"]


@FUZZ
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(
        st.tuples(
            st.sampled_from(sorted(TAGS.values())),
            st.sampled_from([0, 1, 2]),
            st.sampled_from(TYPES),
            st.one_of(st.sampled_from(EDGE), st.integers(0, 2**32 - 1)),
        ),
        min_size=1,
        max_size=3,
    ),
)
@example(seed=(1, "raw"), edits=[(273, 0, 2, 0)])  # StripOffsets typed ASCII: Pillow raises TypeError
@example(seed=(8, "raw"), edits=[(273, 0, 9, 2**32 - 8)])  # StripOffsets as SLONG -8: before the start of the file
@example(seed=(8, "tiff_lzw"), edits=[(256, 2, 4, 30_000), (257, 2, 4, 30_000)])  # DecompressionBombError
@example(seed=(8, "raw"), edits=[(256, 2, 4, 32768), (257, 2, 4, 32768)])  # largest side the fast path takes
def test_ifd_entries_with_edge_values(seed, edits):
    data = SEEDS[seed]
    for tag, field, kind, value in edits:
        data = rewrite(data, tag, **[{"kind": kind}, {"count": value}, {"value": value}][field])
    check_decoders(data)


def test_negative_strip_offset_is_refused():
    data = rewrite(_RAW8, TAGS["strip_offsets"], kind=9, value=2**32 - 8)  # SLONG: -8
    with pytest.raises(FormatError):
        decode_tiff(data)


def test_every_truncation_is_refused():
    for seed in (_RAW1, _RAW8, _LZW8):
        for n in range(len(seed)):
            try:
                page = decode_tiff(seed[:n])
            except FormatError as exc:
                assert str(exc).strip()
            else:  # only a cut inside trailing bytes nothing points to can still decode, and then exactly
                np.testing.assert_array_equal(page, decode_tiff(seed))


_NO_ALLOCATION = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from charbench.errors import FormatError
    from charbench.io.tiff import decode_tiff

    cases = [bytes.fromhex(h) for h in json.loads(sys.argv[1])]
    try:
        decode_tiff(cases[0][:8])  # import Pillow's plugins before the cap
    except FormatError:
        pass
    cap_address_space()
    for data in cases:
        try:
            decode_tiff(data)
        except FormatError:
            pass
        else:
            raise SystemExit("decoded a page whose data is not in the file")
    print("ok")
"""


def test_header_claiming_a_huge_page_is_refused_before_allocating():
    """Pages of 144-900 megapixels claimed by ~200-byte files, decoded under an address-space cap of +64 MiB."""
    cases = []
    for seed, side in ((_LZW8, 12_000), (_LZW8, 30_000), (_RAW8, 32_768), (SEEDS[1, "group4"], 20_000)):
        cases.append(rewrite(rewrite(seed, TAGS["width"], kind=4, value=side), TAGS["height"], kind=4, value=side))
    proc = run_with_capped_memory(_NO_ALLOCATION, json.dumps([c.hex() for c in cases]))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr[-2000:]


HPL_NAME = r"(usr_?[0-9\u0660-\u0669]{1,3}/)?\d{1,4}t\d{1,3}(\.usr_?\d{1,3})?\.tiff?"


@FUZZ
@given(rel=st.one_of(st.text(max_size=30), st.from_regex(HPL_NAME, fullmatch=True)))
@example(rel="usr_\u0663/154t05.tiff")
def test_hpl_names(rel):
    name = parse_hpl_name(rel)
    assert name is None or all(isinstance(v, int) and v >= -1 for v in (name.label, name.sample, name.writer))
