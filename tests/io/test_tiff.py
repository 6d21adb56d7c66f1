"""TIFF decoding against Pillow (the reference) on every layout the fast path and the fallback handle."""

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from charbench.errors import FormatError
from charbench.io.tiff import HplName, decode_tiff, page_count_hint, parse_hpl_name, tiff_size
from charbench.synth.tiff import tiff_bytes


def pillow_grey(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L"))


def handmade_tiff(
    pixels: np.ndarray, *, bits: int, photometric: int, rows_per_strip: int, order: str = "<", counts: bool = True
) -> bytes:
    """A baseline uncompressed TIFF written field by field (Pillow cannot write WhiteIsZero or chosen strips)."""
    h, w = pixels.shape
    rows = np.packbits(pixels.astype(bool), axis=1) if bits == 1 else pixels.astype(np.uint8)
    strips = [rows[r : r + rows_per_strip].tobytes() for r in range(0, h, rows_per_strip)]
    data_at = 8
    blob = b"".join(strips)
    offsets = np.cumsum([data_at] + [len(s) for s in strips[:-1]]).tolist()
    extra_at = data_at + len(blob)
    extra = struct.pack(f"{order}{len(offsets)}I", *offsets) + struct.pack(
        f"{order}{len(strips)}I", *[len(s) for s in strips]
    )
    n = len(strips)
    off_field = offsets[0] if n == 1 else extra_at
    cnt_field = len(strips[0]) if n == 1 else extra_at + 4 * n
    entries = [
        (256, 3, 1, w),
        (257, 3, 1, h),
        (258, 3, 1, bits),
        (259, 3, 1, 1),
        (262, 3, 1, photometric),
        (273, 4, n, off_field),
        (277, 3, 1, 1),
        (278, 3, 1, rows_per_strip),
    ]
    if counts:
        entries.append((279, 4, n, cnt_field))
    ifd_at = extra_at + len(extra)
    ifd = struct.pack(f"{order}H", len(entries))
    for tag, kind, count, value in entries:
        packed = (
            struct.pack(f"{order}H", value) + b"\0\0" if kind == 3 and count == 1 else struct.pack(f"{order}I", value)
        )
        ifd += struct.pack(f"{order}HHI", tag, kind, count) + packed
    ifd += struct.pack(f"{order}I", 0)
    head = (b"II" if order == "<" else b"MM") + struct.pack(f"{order}HI", 42, ifd_at)
    return head + blob + extra + ifd


def test_hpl_names():
    assert parse_hpl_name("usr_26/154t05.tiff") == HplName(154, 5, 26)
    assert parse_hpl_name("a/b/154t05.usr_26.tiff") == HplName(154, 5, 26)
    assert parse_hpl_name("test_data/000t10.TIF") == HplName(0, 10, -1)
    assert parse_hpl_name("usr7/003t01.tif") == HplName(3, 1, 7)
    assert parse_hpl_name("usr_3/sub/003t01.tif") == HplName(3, 1, -1)  # only the file's own folder names a writer
    for bad in ("usr_26/154-05.tiff", "usr_26/154t05.png", "._154t05.tiff", "154t05.usr_x.tiff", "t05.tiff"):
        assert parse_hpl_name(bad) is None, bad


@pytest.mark.parametrize(
    "bits,photometric,rows,order",
    [
        (1, 1, 1000, "<"),
        (1, 0, 1000, ">"),
        (1, 1, 3, "<"),
        (1, 0, 7, ">"),
        (8, 1, 1000, "<"),
        (8, 0, 5, ">"),
    ],
)
def test_fast_path_matches_pillow(bits, photometric, rows, order):
    rng = np.random.default_rng(bits * 10 + photometric)
    pixels = rng.integers(0, 2 if bits == 1 else 256, (23, 37))
    data = handmade_tiff(pixels, bits=bits, photometric=photometric, rows_per_strip=rows, order=order)
    got = decode_tiff(data)
    np.testing.assert_array_equal(got, pillow_grey(data))
    assert got.dtype == np.uint8 and tiff_size(data) == (23, 37)
    if bits == 1:  # BlackIsZero: a set bit is white; WhiteIsZero: black
        np.testing.assert_array_equal(got == 255, pixels.astype(bool) ^ (photometric == 0))


def test_missing_strip_byte_counts_inferred():
    pixels = np.random.default_rng(3).integers(0, 2, (10, 19))
    data = handmade_tiff(pixels, bits=1, photometric=1, rows_per_strip=4, counts=False)
    np.testing.assert_array_equal(decode_tiff(data), np.where(pixels, 255, 0))


@pytest.mark.parametrize(
    "compression,bits",
    [("group4", 1), ("tiff_lzw", 1), ("tiff_lzw", 8), ("tiff_deflate", 8), ("packbits", 1), ("packbits", 8)],
)
def test_compressed_go_through_pillow(compression, bits):
    img = np.random.default_rng(5).integers(0, 256, (31, 45)).astype(np.uint8)
    data = tiff_bytes(img, bits=bits, compression=compression)
    np.testing.assert_array_equal(decode_tiff(data), pillow_grey(data))
    assert tiff_size(data) == tiff_size(data, verify=True) == (31, 45)


def test_sixteen_bit_colour_and_multipage():
    ramp = (np.arange(12 * 20).reshape(12, 20) * 200).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, format="TIFF")
    grey = decode_tiff(buf.getvalue())
    assert grey.dtype == np.uint8 and grey.min() == 0 and grey.max() == 255
    assert (np.diff(grey.ravel().astype(int)) >= 0).all()  # stretched, order kept
    rgb = np.zeros((9, 11, 3), np.uint8)
    rgb[..., 0] = 200
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="TIFF")
    np.testing.assert_array_equal(decode_tiff(buf.getvalue()), pillow_grey(buf.getvalue()))
    pages = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (10, 200)]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    assert page_count_hint(buf.getvalue()) and not page_count_hint(tiff_bytes(np.zeros((4, 4), np.uint8)))
    assert (decode_tiff(buf.getvalue()) == 10).all()  # first page


def test_bad_files_raise_format_error():
    good = tiff_bytes(np.random.default_rng(1).integers(0, 256, (40, 30)).astype(np.uint8), bits=8)
    assert struct.unpack_from("<I", good, 4)[0] == 8  # Pillow puts the IFD first, so a cut loses pixel data
    with pytest.raises(FormatError, match="zero-byte"):
        tiff_size(b"")
    with pytest.raises(FormatError, match="not a TIFF"):
        tiff_size(b"GIF89a" + bytes(50))
    with pytest.raises(FormatError, match="truncated"):
        tiff_size(good[:-10])
    with pytest.raises(FormatError):
        decode_tiff(good[:-10])
    with pytest.raises(FormatError, match="past the end"):
        tiff_size(b"II*\x00\xff\xff\x00\x00")
    lzw = bytearray(
        tiff_bytes(np.random.default_rng(2).integers(0, 256, (60, 60)).astype(np.uint8), bits=8, compression="tiff_lzw")
    )
    lzw[8:208] = bytes(200)  # libtiff keeps the IFD at the end: the header reads fine, the strip does not
    assert tiff_size(bytes(lzw)) == (60, 60)
    with pytest.raises(FormatError, match="unreadable"):
        tiff_size(bytes(lzw), verify=True)  # compressed data can only be checked by decoding it


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**16), bits=st.sampled_from([1, 8]))
def test_roundtrip_any_shape(h, w, seed, bits):
    img = np.random.default_rng(seed).integers(0, 256, (h, w)).astype(np.uint8)
    data = tiff_bytes(img, bits=bits)
    expected = np.where(img >= 128, 255, 0) if bits == 1 else img
    np.testing.assert_array_equal(decode_tiff(data), expected)
    assert tiff_size(data) == (h, w)
