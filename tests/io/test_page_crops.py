"""Page-crop reader: label strings, CODH rows, translation table, clipping, header sizes, cropping, file lookup."""


import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charbench.errors import FormatError
from charbench.io import page_crops as pc


def test_parse_codepoint():
    assert pc.parse_codepoint("U+3042") == 0x3042
    assert pc.parse_codepoint("U+2000B") == 0x2000B and pc.parse_codepoint(" U+81ea ") == 0x81EA
    for bad in ("3042", "U+30", "U+ZZ42", "u+3042", "U+1234567", "U+110000", ""):
        assert pc.parse_codepoint(bad) == -1, bad


def test_book_of_both_id_styles():
    assert pc.book_of("100241706_00004_2") == "100241706"
    assert pc.book_of("umgy001-017") == "umgy001"
    assert pc.book_of("hnsd004-026_x") == "hnsd004"
    assert pc.book_of("plain") == "plain"


def test_parse_label_string():
    assert pc.parse_label_string("") == []
    assert pc.parse_label_string(" U+3042 1 2 3 4  U+3044 -5 6 7 0 ") == [
        ("U+3042", (1, 2, 3, 4)),
        ("U+3044", (-5, 6, 7, 0)),
    ]
    with pytest.raises(FormatError, match="6 tokens, not groups of 5"):
        pc.parse_label_string("U+3042 1 2 3 4 U+3044")
    with pytest.raises(FormatError, match="box 1 has a non-integer coordinate"):
        pc.parse_label_string("U+3042 1 2 3 4 U+3044 1 2.5 3 4")


def test_kaggle_rows_in_file_order_with_problems():
    text = (
        "image_id,labels\n"
        "bk1_001,U+3042 1 2 3 4 U+3044 5 6 7 8\n"
        "bk1_002,\n"
        "bk2-003,U+3042 1 2 3\n"
        "bk1_001,U+3042 1 2 3 4\n"
        "bk2-004,U+XYZ 9 9 9 9\n"
    )
    t = pc.read_kaggle_labels(text, "train.csv")
    assert t.pages == ["bk1_001", "bk1_002", "bk2-003", "bk2-004"]
    assert t.page.tolist() == [0, 0, 3] and t.codes == ["U+3042", "U+3044", "U+XYZ"]
    assert t.codepoints.tolist() == [0x3042, 0x3044, -1]
    assert t.xywh.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 9, 9, 9]]
    reasons = [r for r, _ in t.problems]
    assert reasons == ["unparsable labels string (pages)", "duplicate image_id row (pages)"]
    assert t.problems[0][1].startswith("bk2-003: 4 tokens") and "line 4" in t.problems[0][1]
    assert "bk1_001" in t.problems[1][1] and "line 5" in t.problems[1][1]


def test_csv_headers_are_checked_and_named():
    with pytest.raises(FormatError, match=r"my\.csv: expected columns image_id, labels; missing labels"):
        pc.read_kaggle_labels("image_id,label\nx,\n", "my.csv")
    with pytest.raises(FormatError, match="missing Width, Height"):
        pc.read_codh_coordinates("Unicode,Image,X,Y\n", "b_coordinate.csv")
    with pytest.raises(FormatError, match=r"t\.csv line 3: codepoint 'U\+GG' is not U\+ followed by hex"):
        pc.read_translation("Unicode,char\nU+3042,あ\nU+GG,x\n", "t.csv")
    assert pc.read_translation("\ufeffUnicode,char\nU+3042,あ\nU+3044,\n") == {0x3042: "あ", 0x3044: "い"}


def test_codh_rows_and_concat():
    head = "Unicode,Image,X,Y,Block ID,Char ID,Width,Height\n"
    a = pc.read_codh_coordinates(
        head + "U+3042,b1_01,1,2,B1,C1,3,4\nU+3044,b1_02,1,2,B1,C2,x,4\nU+3046,b1_01,5,6,B1,C3,7,8\n",
        "b1_coordinate.csv",
    )
    assert (
        a.pages == ["b1_01"] and a.page.tolist() == [0, 0] and a.problems[0][0] == "unparsable coordinate row (boxes)"
    )
    b = pc.read_codh_coordinates(head + "U+3048,b2_01,0,0,B1,C1,2,2\n", "b2_coordinate.csv")
    both = pc.concat_tables([a, b])
    assert both.pages == ["b1_01", "b2_01"] and both.codes == ["U+3042", "U+3046", "U+3048"]
    assert both.page.tolist() == [0, 0, 1] and len(both.problems) == 1


def test_clip_boxes_statuses():
    xywh = np.array(
        [[10, 10, 5, 5], [-3, 10, 5, 5], [8, 18, 5, 5], [20, 0, 5, 5], [0, -9, 5, 5], [1, 1, 0, 3], [1, 1, 3, -2]]
    )
    boxes, status = pc.clip_boxes(xywh, height=20, width=20)
    assert status.tolist() == [
        pc.BOX_OK,
        pc.BOX_CLIPPED,
        pc.BOX_CLIPPED,
        pc.BOX_OUTSIDE,
        pc.BOX_OUTSIDE,
        pc.BOX_EMPTY,
        pc.BOX_EMPTY,
    ]
    assert boxes[:3].tolist() == [[10, 10, 15, 15], [0, 10, 2, 15], [8, 18, 13, 20]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(*[st.integers(-50, 150)] * 2, *[st.integers(-5, 80)] * 2), min_size=1, max_size=20),
    st.integers(1, 100),
    st.integers(1, 100),
)
def test_clip_boxes_property(rows, h, w):
    xywh = np.array(rows, np.int64)
    boxes, status = pc.clip_boxes(xywh, h, w)
    kept = (status == pc.BOX_OK) | (status == pc.BOX_CLIPPED)
    x0, y0, x1, y1 = boxes[kept].T
    assert ((0 <= x0) & (x0 < x1) & (x1 <= w) & (0 <= y0) & (y0 < y1) & (y1 <= h)).all()
    src = xywh[kept]
    assert ((x0 >= src[:, 0]) & (y0 >= src[:, 1]) & (x1 <= src[:, 0] + src[:, 2]) & (y1 <= src[:, 1] + src[:, 3])).all()
    unchanged = (x0 == src[:, 0]) & (y0 == src[:, 1]) & (x1 - x0 == src[:, 2]) & (y1 - y0 == src[:, 3])
    assert (unchanged == (status[kept] == pc.BOX_OK)).all()
    assert ((xywh[:, 2] > 0) & (xywh[:, 3] > 0))[status == pc.BOX_OUTSIDE].all()


def _jpeg(page: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_page_size_from_header_decode_and_crop():
    rng = np.random.default_rng(0)
    page = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    data = _jpeg(page)
    assert pc.page_size(data[:2000], "p.jpg") == (300, 200)  # the header alone is enough
    grey = pc.decode_page(data, "p.jpg")
    assert grey.shape == (300, 200) and grey.dtype == np.uint8
    np.testing.assert_array_equal(grey, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE))
    boxes = np.array([[0, 0, 200, 300], [10, 20, 13, 27], [199, 299, 200, 300]], np.int32)
    sizes = pc.crop_sizes(boxes)
    assert sizes.tolist() == [60000, 21, 1]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.zeros(int(sizes.sum()), np.uint8)
    pc.crop_into(grey, boxes, flat, offsets)
    np.testing.assert_array_equal(flat[60000:60021].reshape(7, 3), grey[20:27, 10:13])
    assert flat[-1] == grey[299, 199]
    with pytest.raises(FormatError, match="page image bad.jpg cannot be decoded"):
        pc.decode_page(data[:100], "bad.jpg")
    with pytest.raises(FormatError, match="page image x.jpg is not a readable image"):
        pc.page_size(b"not an image at all", "x.jpg")
