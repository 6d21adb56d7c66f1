"""decode_grey: every Pillow mode to one grey plane, alpha over white, OpenCV's fast path equal to Pillow's."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from charbench.io.images import UnreadableImageError, decode_grey, image_shape, png_header


def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def grey():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (13, 17), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP", "GIF"])
def test_grey_images_come_back_exactly(grey, fmt):
    kw = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(Image.fromarray(grey, "L"), fmt, **kw)
    np.testing.assert_array_equal(decode_grey(data, f"x.{fmt.lower()}"), np.asarray(Image.open(io.BytesIO(data)).convert("L")))


def test_fast_path_equals_pillow_for_grey_and_bilevel_pngs(grey):
    for im in (Image.fromarray(grey, "L"), Image.fromarray(grey > 127).convert("1")):
        data = encode(im)
        assert png_header(data)[3] == 0
        np.testing.assert_array_equal(decode_grey(data, "x.png"), np.asarray(im.convert("L")))


def test_colour_palette_and_alpha(grey):
    rgb = np.stack([grey, 255 - grey, grey // 2], axis=2)
    np.testing.assert_array_equal(decode_grey(encode(Image.fromarray(rgb, "RGB")), "c.png"),
                                  np.asarray(Image.fromarray(rgb, "RGB").convert("L")))
    pal = Image.fromarray(rgb, "RGB").convert("P")
    np.testing.assert_array_equal(decode_grey(encode(pal), "p.png"), np.asarray(pal.convert("L")))
    ink = np.zeros((8, 8, 4), np.uint8)  # black ink drawn on a transparent canvas
    ink[2:6, 3, 3] = 255
    out = decode_grey(encode(Image.fromarray(ink, "RGBA")), "a.png")
    assert out[0, 0] == 255 and out[3, 3] == 0  # over white paper: dark ink stays dark
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
    np.testing.assert_array_equal(decode_grey(encode(sixteen), "s.png"), grey)


def test_jpeg_and_unreadable(grey):
    data = cv2.imencode(".jpg", grey)[1].tobytes()
    assert decode_grey(data, "j.jpg").shape == grey.shape
    for bad in (b"", b"not an image"):
        with pytest.raises(UnreadableImageError, match="bad.png: not a readable image"):
            decode_grey(bad, "bad.png")
    with pytest.raises(UnreadableImageError, match="bad.png: PNG truncated"):  # the PNG path's own reason
        decode_grey(encode(Image.fromarray(grey, "L"))[:40], "bad.png")


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "JPEG", "GIF"])
def test_image_shape_from_the_header_is_the_decoded_shape(grey, fmt):
    for im in (Image.fromarray(grey, "L"), Image.fromarray(np.stack([grey] * 3, axis=2), "RGB")):
        data = encode(im, fmt)
        assert image_shape(data, f"x.{fmt.lower()}") == decode_grey(data, f"x.{fmt.lower()}").shape == (13, 17)
    with pytest.raises(UnreadableImageError, match="bad.bmp: not a readable image"):
        image_shape(b"not an image", "bad.bmp")
