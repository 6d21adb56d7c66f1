"""Fuzzing Kuzushiji page inputs: Kaggle label strings and page image bytes.

Label strings are built from the format's own tokens (codepoints, integers of any size) and from random text; page
images are damaged JPEGs and PNGs. Each reader either returns well-formed output (boxes of four integers; a grey
uint8 page whose shape matches the header) or raises a CharbenchError naming the file; it never crashes.
"""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import CharbenchError, FormatError
from charbench.io import page_crops as pc

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

integer = st.one_of(
    st.integers(-(2**16), 2**16),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1]),
).map(str) | st.sampled_from(["1.5", "", "-", "1e3", "\u0661\u0662", "0x10", "١"])
codepoint = st.one_of(
    st.integers(0, 0x11FFFF).map(lambda c: f"U+{c:04X}"),
    st.sampled_from(["U+", "U+ZZZZ", "u+3042", "U+3042\u0301", "3042", "U+0000"]),
    st.text(max_size=6),
)
box = st.tuples(codepoint, integer, integer, integer, integer).map(" ".join)
label_string = st.one_of(
    st.lists(box, max_size=4).map(" ".join),
    st.lists(st.one_of(codepoint, integer), max_size=12).map(" ".join),
    st.text(max_size=40),
)


@FUZZ
@given(text=label_string)
@example(text="U+3042 " + "9" * 5000 + " 1 1 1")  # int() refuses over 4300 digits with a ValueError
def test_label_strings(text):
    try:
        boxes = pc.parse_label_string(text)
    except FormatError as exc:
        assert str(exc).strip()
        return
    assert all(isinstance(code, str) and len(xywh) == 4 for code, xywh in boxes)
    assert all(isinstance(v, int) for _, xywh in boxes for v in xywh)
    for code, _ in boxes:
        assert -1 <= pc.parse_codepoint(code) <= 0x10FFFF


# --- page images ------------------------------------------------------------------------------------------------------

_PAGE = (np.random.default_rng(0).random((48, 40)) * 255).astype(np.uint8)
JPEG = cv2.imencode(".jpg", _PAGE, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
PNG = cv2.imencode(".png", _PAGE)[1].tobytes()


def check_page(data: bytes, name: str = "train_images/100241706_00004_2.jpg") -> None:
    size = page = None
    try:
        size = pc.page_size(data, name)
        assert isinstance(size, tuple) and all(isinstance(v, int) and v > 0 for v in size)
    except CharbenchError as exc:
        assert name in str(exc), str(exc)
    for scale in pc.DECODE_SCALES:
        try:
            page = pc.decode_page(data, name, scale)
        except CharbenchError as exc:
            assert name in str(exc), str(exc)
            continue
        assert isinstance(page, np.ndarray) and page.dtype == np.uint8 and page.ndim == 2 and page.size > 0
        if scale == 1 and size is not None:
            assert page.shape == size, "decode_page and page_size disagree on the page size"


@FUZZ
@given(
    image=st.sampled_from(["jpeg", "png"]),
    ops=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_page_mutated(image, ops):
    buf = bytearray(JPEG if image == "jpeg" else PNG)
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
    check_page(bytes(buf))
