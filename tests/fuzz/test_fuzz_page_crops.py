"""Fuzzing Kuzushiji page inputs: Kaggle label strings and CSVs, CODH coordinate CSVs, and page image bytes.

Label strings and CSVs are built from the formats' own tokens (codepoints, integers of any size, quotes, BOMs,
NULs, huge fields) and from random text; page images are random bytes, damaged JPEGs and PNGs, and headers claiming
huge pages. Each reader either returns well-formed output (a BoxTable whose arrays agree; a grey uint8 page whose
shape matches the header) or raises a CharbenchError naming the file; it never crashes or allocates a page the file
cannot hold.
"""

from __future__ import annotations

import json
import struct
import zlib

import cv2
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import CharbenchError, FormatError
from charbench.io import page_crops as pc
from tests.fuzzing import EDITS, mutate, outcome, run_with_capped_memory

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KAGGLE = "train.csv"
CODH = "200003076_coordinate.csv"

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


def field(value: str, quote: bool) -> str:
    return '"' + value.replace('"', '""') + '"' if quote else value


def check_table(table: pc.BoxTable) -> None:
    n = len(table)
    assert table.page.dtype == np.int32 and table.page.shape == (n,)
    assert table.codepoints.dtype == np.int64 and table.codepoints.shape == (n,) and len(table.codes) == n
    assert table.xywh.dtype == np.int64 and table.xywh.shape == (n, 4)
    assert ((table.page >= 0) & (table.page < len(table.pages))).all()
    assert ((table.codepoints >= -1) & (table.codepoints <= 0x10FFFF)).all()
    assert len(set(table.pages)) == len(table.pages) and all(isinstance(p, str) and p for p in table.pages)
    assert all(isinstance(r, str) and isinstance(m, str) and m for r, m in table.problems)


def table_or_error(fn, text: str, name: str) -> pc.BoxTable | None:
    table = outcome(lambda n: fn(text, n), name)
    if table is not None:
        check_table(table)
    return table


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


@FUZZ
@given(
    rows=st.lists(st.tuples(st.text(max_size=10), label_string, st.booleans()), max_size=6),
    header=st.sampled_from(["image_id,labels", "\ufeffimage_id,labels", " image_id , labels ", "image_id", "", "a,b"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
@example(rows=[("p1", "U+3042 99999999999999999999 1 1 1", False)], header="image_id,labels", newline="\n")
@example(rows=[("p1", "U+3042 " + "1 " * 70000, True)], header="image_id,labels", newline="\n")  # csv field limit
@example(rows=[("p\x001", "", False)], header="image_id,labels", newline="\n")
def test_kaggle_csv(rows, header, newline):
    lines = [header] + [f"{field(i, q)},{field(s, q)}" for i, s, q in rows]
    table_or_error(pc.read_kaggle_labels, newline.join(lines) + newline, KAGGLE)


@FUZZ
@given(text=st.text(max_size=300))
def test_kaggle_csv_random_text(text):
    table_or_error(pc.read_kaggle_labels, "image_id,labels\n" + text, KAGGLE)


codh_row = st.tuples(codepoint, st.text(max_size=8), integer, integer, st.text(max_size=3), integer, integer, integer)


@FUZZ
@given(rows=st.lists(codh_row, max_size=6), quote=st.booleans())
@example(rows=[("U+3042", "p1", "99999999999999999999", "1", "B", "C", "1", "1")], quote=False)
def test_codh_csv(rows, quote):
    header = "Unicode,Image,X,Y,Block ID,Char ID,Width,Height"
    lines = [header] + [",".join(field(str(v), quote) for v in row) for row in rows]
    first = table_or_error(pc.read_codh_coordinates, "\n".join(lines) + "\n", CODH)
    if first is not None:
        merged = pc.concat_tables([first, first])
        check_table(merged)
        assert len(merged) == 2 * len(first) and merged.pages == first.pages


@FUZZ
@given(rows=st.lists(st.tuples(codepoint, st.text(max_size=3)), max_size=6), text=st.text(max_size=40))
def test_translation_csv(rows, text):
    body = "Unicode,char\n" + "\n".join(f"{c},{field(ch, True)}" for c, ch in rows) + "\n" + text
    try:
        table = pc.read_translation(body, "unicode_translation.csv")
    except CharbenchError as exc:
        assert "unicode_translation.csv" in str(exc)
        return
    assert all(isinstance(k, int) and 0 <= k <= 0x10FFFF and isinstance(v, str) for k, v in table.items())


# --- page images ------------------------------------------------------------------------------------------------------

_PAGE = (np.random.default_rng(0).random((48, 40)) * 255).astype(np.uint8)
JPEG = cv2.imencode(".jpg", _PAGE, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
PNG = cv2.imencode(".png", _PAGE)[1].tobytes()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` grey pixels over one tiny IDAT chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """The small JPEG with its frame header (SOF0) claiming ``width`` x ``height``."""
    buf = bytearray(JPEG)
    struct.pack_into(">HH", buf, buf.find(b"\xff\xc0") + 5, height, width)
    return bytes(buf)


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
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\xff\xd8\xff")
@example(data=png_claiming(60_000, 60_000))  # over OpenCV's pixel limit: cv2.error
@example(data=png_claiming(30_000, 30_000))  # over Pillow's: DecompressionBombError
def test_page_random_bytes(data):
    check_page(data)


@FUZZ
@given(
    image=st.sampled_from(["jpeg", "png"]),
    ops=EDITS,
)
def test_page_mutated(image, ops):
    check_page(mutate(JPEG if image == "jpeg" else PNG, ops))


_NO_ALLOCATION = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from charbench.errors import FormatError
    from charbench.io import page_crops as pc

    cases = [bytes.fromhex(h) for h in json.loads(sys.argv[1])]
    for data in cases[:1]:  # load the decoders before the cap
        try:
            pc.decode_page(data[:4], "warm-up")
        except FormatError:
            pass
    cap_address_space()
    for data in cases:
        try:
            pc.decode_page(data, "huge.jpg")
        except FormatError as exc:
            assert "huge.jpg" in str(exc), str(exc)
        else:
            raise SystemExit("decoded a page whose data is not in the file")
    print("ok")
"""


def test_header_claiming_a_huge_page_is_refused_before_allocating():
    """JPEG and PNG headers claiming 144-900 megapixels over a few hundred bytes, under a +64 MiB address-space cap."""
    cases = [jpeg_claiming(12_000, 12_000), jpeg_claiming(30_000, 30_000), png_claiming(12_000, 12_000)]
    proc = run_with_capped_memory(_NO_ALLOCATION, json.dumps([c.hex() for c in cases]))
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr[-2000:]
