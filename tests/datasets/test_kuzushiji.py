"""Kuzushiji page crops: synthetic Kaggle and CODH layouts (with every kind of bad input), and the real pages."""

import csv
import shutil
from collections import Counter

import cv2
import numpy as np
import pytest

from charbench.datasets.kuzushiji import Kuzushiji
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.kernels import normalize
from charbench.kernels.ragged import Ragged
from charbench.synth.pages import UNTRANSLATED, write_codh_books, write_kaggle_pages
from tests.checks import check_converter

EXPECTED_SKIPS = {
    "unparsable labels string (pages)": 1,
    "boxes on a missing page image (boxes)": 1,
    "box wholly outside its page (boxes)": 1,
    "box of zero area (boxes)": 1,
    "codepoint not U+ hex (boxes)": 1,
    "codepoint not in unicode_translation.csv (boxes)": 1,
}


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory):
    return write_kaggle_pages(tmp_path_factory.mktemp("kaggle"), num_pages=8, num_books=3)


def _independent_crops(root, image_ids, boxes):
    """Crops made without charbench's reader: cv2.imread of the page file, numpy slicing, clipped by hand."""
    out, pages = [], {}
    for image_id, (x, y, w, h) in zip(image_ids, boxes):
        if image_id not in pages:
            pages[image_id] = cv2.imread(str(root / f"{image_id}.jpg"), cv2.IMREAD_GRAYSCALE)
        page = pages[image_id]
        out.append(page[max(y, 0) : y + h, max(x, 0) : x + w])
    return Ragged.from_list(out)


def test_kaggle_layout_end_to_end(kaggle, tmp_path):
    readers = check_converter("kuzushiji", kaggle.root, tmp_path / "out")
    index = readers["train"].index
    kept = kaggle.kept()
    assert sum(len(r) for r in readers.values()) == len(kept)
    assert index["skipped"] == EXPECTED_SKIPS
    assert index["notes"]["clipped_boxes"] == 1 and index["notes"]["pages_without_boxes"] == 2
    cps = sorted({kaggle.codepoints[b[7]] for b in kept})
    assert [c["codepoint"] for c in index["classes"]] == cps and UNTRANSLATED not in cps
    assert [c["name"] for c in index["classes"]] == [chr(cp) for cp in cps]
    assert index["split"]["method"] == "group" and index["split"]["group_by"] == "page"
    pages = index["notes"]["pages"]
    for r in readers.values():
        truth = [kaggle.boxes[s] for s in r.source_ids]  # source id = box number in train.csv order
        assert [r.class_names[y] for y in r.labels] == [chr(kaggle.codepoints[b[7]]) for b in truth]
        assert [pages[g] for g in r.groups] == [b[0] for b in truth]
        ref = normalize(
            _independent_crops(kaggle.root / "train_images", [b[0] for b in truth], [b[2:6] for b in truth]),
            size=32,
            binarize="otsu",
            center="mass",
        )
        np.testing.assert_array_equal(r.images(), ref)
    page_sets = [set(r.groups.tolist()) for r in readers.values()]
    assert all(a.isdisjoint(b) for i, a in enumerate(page_sets) for b in page_sets[i + 1 :])


def test_group_by_book_and_zip_source_give_same_content(kaggle, tmp_path):
    by_book = check_converter("kuzushiji", kaggle.root, tmp_path / "a", group_by="book", fractions=(0.34, 0.33, 0.33))
    books = {s: {r.index["notes"]["books"][b] for b in r.groups.tolist()} for s, r in by_book.items()}
    assert set(books) == {"train", "val", "test"} and all(len(v) == 1 for v in books.values())  # a book a split
    assert set.union(*books.values()) == {"200000000", "umgy001", "200000002"}
    pages = by_book["train"].index["notes"]["pages"]
    for s, r in by_book.items():  # groups hold book ids here; each example's page is still in the right book
        truth = [kaggle.boxes[i][0] for i in r.source_ids]
        assert {t.split("_")[0].split("-")[0] for t in truth} == books[s] and set(truth) <= set(pages)
    zipped = write_kaggle_pages(tmp_path / "zipped", num_pages=8, num_books=3, archive=True)
    assert not (zipped.root / "train_images").exists()
    whole = tmp_path / "download"  # the Kaggle download: one zip holding train.csv, the table and train_images/
    whole.mkdir()
    shutil.make_archive(str(whole / "kuzushiji-recognition"), "zip", kaggle.root)
    a = check_converter("kuzushiji", kaggle.root, tmp_path / "b")
    b = check_converter("kuzushiji", zipped.root, tmp_path / "c")
    c = check_converter("kuzushiji", whole, tmp_path / "d")
    assert a["train"].dataset_hash == b["train"].dataset_hash == c["train"].dataset_hash
    assert c["train"].index["sources"]["files"][0]["name"] == "kuzushiji-recognition.zip"


def test_bleed_through_is_removed_by_the_default_binarisation(tmp_path):
    kw = {"num_pages": 3, "boxes_per_page": 12, "bad": False, "page_shape": (900, 600), "cell": 150}
    clean = write_kaggle_pages(tmp_path / "clean", bleed=0.0, **kw)
    bled = write_kaggle_pages(tmp_path / "bled", bleed=0.3, **kw)
    ink = {}
    for name, src in (("clean", clean), ("bled", bled)):
        for method in ("otsu", "sauvola"):
            conv = Kuzushiji(src.root)
            cat = conv.scan()
            ink[name, method] = normalize(conv.load(np.arange(len(cat))), size=32, binarize=method) > 0
    assert Kuzushiji.defaults.binarize == "otsu"

    def iou(a, b):
        return float(np.mean((a & b).sum((1, 2)) / np.maximum((a | b).sum((1, 2)), 1)))

    assert iou(ink["bled", "otsu"], ink["clean", "otsu"]) > 0.95
    assert iou(ink["bled", "sauvola"], ink["clean", "sauvola"]) < iou(ink["bled", "otsu"], ink["clean", "otsu"]) - 0.1


def test_strict_fails_naming_image_ids(kaggle, tmp_path):
    with pytest.raises(FormatError, match=r"--strict: 5 bad input\(s\) .*zz_unparsable_001: 4 tokens.*zz_missing_002"):
        check_converter("kuzushiji", kaggle.root, tmp_path / "out", strict=True)
    assert not (tmp_path / "out" / "kuzushiji").exists()
    good = write_kaggle_pages(tmp_path / "good", num_pages=3, bad=False)
    readers = check_converter("kuzushiji", good.root, tmp_path / "out2", strict=True, split="random")
    assert sum(len(r) for r in readers.values()) == len(good.boxes)


def test_codh_layout(tmp_path):
    books = write_codh_books(tmp_path / "codh", num_pages=4, num_books=2)
    readers = check_converter("kuzushiji", books.root, tmp_path / "out", group_by="book", fractions=(0.5, 0.0, 0.5))
    index = readers["train"].index
    assert index["notes"]["layout"] == "codh" and index["skipped"] == {}
    assert sum(len(r) for r in readers.values()) == len(books.boxes)
    for r in readers.values():
        truth = [books.boxes[s] for s in r.source_ids]  # source id = row number over the books' CSVs in path order
        assert [r.class_names[y] for y in r.labels] == [chr(books.codepoints[b[7]]) for b in truth]
    books = [set(r.groups.tolist()) for r in readers.values()]  # grouped by book: groups hold book ids
    assert len(books) == 2 and books[0].isdisjoint(books[1]) and len(books[0] | books[1]) == 2


def test_missing_and_malformed_sources(kaggle, tmp_path):
    with pytest.raises(RawDataNotFoundError, match="no Kuzushiji labels in"):
        Kuzushiji(tmp_path).scan()
    src = tmp_path / "no-translation"
    shutil.copytree(kaggle.root, src)
    (src / "unicode_translation.csv").unlink()
    with pytest.raises(RawDataNotFoundError, match="no unicode_translation.csv"):
        Kuzushiji(src).scan()
    (src / "unicode_translation.csv").write_text("Unicode,char\nU+3042,あ\n")
    (src / "train.csv").write_text("id,labels\n")
    with pytest.raises(FormatError, match=r"train\.csv: expected columns image_id, labels; missing image_id"):
        Kuzushiji(src).scan()
    with pytest.raises(OptionError, match="layout must be auto, kaggle or codh"):
        Kuzushiji(src, layout="pdf").scan()
    with pytest.raises(RawDataNotFoundError):
        Kuzushiji(src, layout="codh").scan()


def test_corrupt_page_is_reported_with_its_name(kaggle, tmp_path):
    src = tmp_path / "corrupt"
    shutil.copytree(kaggle.root, src)
    victim = kaggle.image_ids[1]
    (src / "train_images" / f"{victim}.jpg").write_bytes(b"\xff\xd8 truncated")
    conv = Kuzushiji(src)
    cat = conv.scan()
    assert conv.skips.counts["boxes on an unreadable page image (boxes)"] == 1
    assert any(victim in m for m in conv.skips.examples())
    page = src / "train_images" / f"{kaggle.image_ids[0]}.jpg"
    page.write_bytes(page.read_bytes()[:400])  # header intact, pixels gone: found when cropping
    with pytest.raises(FormatError, match=f"{kaggle.image_ids[0]}.jpg .*cannot be decoded"):
        conv.load(np.arange(len(cat)))


@pytest.mark.realdata
def test_real_kaggle_pages(real_data, tmp_path):
    raw = real_data / "kuzushiji" / "kaggle-kuzushiji-recognition"
    readers = check_converter(
        "kuzushiji", raw, tmp_path / "out", fractions=(0.6, 0.2, 0.2), options={"decode_scale": 1}
    )
    index = readers["train"].index
    assert sum(len(r) for r in readers.values()) == 464 and index["num_classes"] == 179
    assert index["skipped"] == {} and len(index["notes"]["pages"]) == 5 and index["notes"]["books"] == ["100241706"]
    with open(raw / "unicode_translation.csv", encoding="utf-8") as f:
        table = {row["Unicode"]: row["char"] for row in csv.DictReader(f)}
    assert all(table[f"U+{c['codepoint']:04X}"] == c["name"] for c in index["classes"])
    with open(raw / "train.csv", encoding="utf-8") as f:
        rows = [(r["image_id"], r["labels"].split()) for r in csv.DictReader(f)]
    boxes = [(img, t[i], *map(int, t[i + 1 : i + 5])) for img, t in rows for i in range(0, len(t), 5)]
    assert len(boxes) == 464
    counts = Counter()
    for r in readers.values():
        truth = [boxes[s] for s in r.source_ids]
        assert [index["classes"][y]["codepoint"] for y in r.labels] == [int(b[1].removeprefix("U+"), 16) for b in truth]
        ref = normalize(
            _independent_crops(raw / "train_images", [b[0] for b in truth], [b[2:] for b in truth]),
            size=32,
            binarize="otsu",
        )
        np.testing.assert_array_equal(r.images(), ref)
        counts.update(index["notes"]["pages"][g] for g in set(r.groups.tolist()))
    assert set(counts.values()) == {1} and len(counts) == 5  # every page in exactly one split
    # decode_scale=auto: pages whose smallest box is >= 64 px decode at half size (the 5th has a 33 px box)
    conv = Kuzushiji(raw)
    conv.scan()
    conv.set_output_size(32)
    assert conv.page_scales().tolist() == [2, 2, 2, 2, 1]
    fast = check_converter("kuzushiji", raw, tmp_path / "auto", fractions=(0.6, 0.2, 0.2))
    for split, r in readers.items():
        a, b = r.images() > 0, fast[split].images() > 0
        np.testing.assert_array_equal(r.source_ids, fast[split].source_ids)
        assert np.mean((a & b).sum((1, 2)) / (a | b).sum((1, 2))) > 0.85


@pytest.mark.realdata
def test_real_codh_rows_match_the_kaggle_boxes(real_data, tmp_path):
    kaggle = real_data / "kuzushiji" / "kaggle-kuzushiji-recognition"
    book = tmp_path / "100241706"  # the CODH layout, by links to the real files: the excerpt CSV and the pages
    (book / "images").mkdir(parents=True)
    (book / "100241706_coordinate.csv").symlink_to(
        real_data / "kuzushiji" / "codh-book-100241706" / "100241706_coordinate.excerpt.csv"
    )
    for page in (kaggle / "train_images").iterdir():
        (book / "images" / page.name).symlink_to(page)
    catalogs = {}
    for name, src in (("codh", tmp_path), ("kaggle", kaggle)):
        conv = Kuzushiji(src)
        cat = conv.scan()
        pages = cat.notes["pages"]
        keys = [
            (pages[p], cat.classes[y].codepoint, *b)
            for p, y, b in zip(cat.groups["page"].tolist(), cat.labels.tolist(), conv._boxes.tolist())
        ]
        catalogs[name] = (Counter(keys), cat)
    assert catalogs["codh"][0] == catalogs["kaggle"][0] and sum(catalogs["codh"][0].values()) == 464
    assert catalogs["codh"][1].notes["layout"] == "codh"
