"""Omniglot: synthetic trees and zips (with junk and bad entries), stroke rendering, and the real small1 zips."""

from __future__ import annotations

import io
import os
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from charbench.datasets.base import JUNK, SHADOWED, UNSAFE
from charbench.datasets.omniglot import Omniglot
from charbench.episodes import EpisodeSampler
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.kernels import normalize
from charbench.kernels.polarity import polarity
from charbench.synth.omniglot import alphabet_names, png_bytes, write_omniglot
from tests.checks import check_converter

NAME = re.compile(r"(\d{4})_(\d\d)\.png$")


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("omniglot")
    sets = ("background", "evaluation")
    return {
        "tree": write_omniglot(base / "tree", sets=sets),
        "zip": write_omniglot(base / "zip", sets=sets, zipped=True),
    }


def png_index(root: Path) -> dict[int, Path]:
    """Independent of the converter: NNNN_DD of every PNG under images_background -> its path."""
    out = {}
    for p in (root / "images_background").glob("*/*/*.png"):
        if (m := NAME.fullmatch(p.name)) is not None:
            out[int(m[1]) * 100 + int(m[2])] = p
    return out


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a > 127, b > 127
    return (a & b).sum((1, 2)) / np.maximum((a | b).sum((1, 2)), 1)


BACKGROUND = {"subset": "background"}


def test_tree_alphabets_by_drawer_pixel_exact(raw, tmp_path):
    readers = check_converter("omniglot", raw["tree"], tmp_path / "out", options=BACKGROUND)
    assert {s: len(r) for s, r in readers.items()} == {"train": 192, "val": 24, "test": 24}
    train = readers["train"]
    assert train.class_names == alphabet_names("background", 3) and train.image_size == 64
    drawers = {s: set(r.groups.tolist()) for s, r in readers.items()}
    assert set().union(*drawers.values()) == set(range(1, 21))
    assert drawers["train"].isdisjoint(drawers["val"] | drawers["test"]) and drawers["val"].isdisjoint(drawers["test"])
    index = png_index(raw["tree"])
    for r in readers.values():
        np.testing.assert_array_equal(r.source_ids % 100, r.groups)
        pngs = [index[int(sid)] for sid in r.source_ids]
        assert [p.parts[-3] for p in pngs] == [r.class_names[y] for y in r.labels]
        grey = np.stack([np.asarray(Image.open(p).convert("L")) for p in pngs])
        expected = normalize(grey, size=64, binarize="none", center="mass", invert="auto")
        np.testing.assert_array_equal(r.images(), expected)
        assert (r.images() > 127).mean() < 0.4  # white ink on a black background
    assert train.index["skipped"] == {JUNK: 12} and train.index["notes"]["sets"] == {"images_background": 240}


def test_zips_equal_extracted_trees(raw, tmp_path):
    a = check_converter("omniglot", raw["tree"], tmp_path / "a", options={"label": "character", **BACKGROUND})
    b = check_converter("omniglot", raw["zip"], tmp_path / "b", options={"label": "character", **BACKGROUND})
    assert {s: r.content_hash for s, r in a.items()} == {s: r.content_hash for s, r in b.items()}
    sources = b["train"].index["sources"]["files"]
    assert [f["name"] for f in sources] == ["images_background.zip"]


def test_character_labels_both_sets_official_protocol(raw, tmp_path):
    readers = check_converter(
        "omniglot",
        raw["zip"],
        tmp_path / "out",
        split="official",
        val_fraction=0.1,
        options={"label": "character", "subset": "all"},
    )
    names = readers["train"].class_names
    assert len(names) == 24 == len(set(names)) and names[:2] == ["Bg_Script_01/character01", "Bg_Script_01/character02"]
    assert (readers["test"].source_ids >= 10**7).all() and len(readers["test"]) == 240
    for split in ("train", "val"):
        assert (readers[split].source_ids < 10**7).all()
    assert {names[y].split("/")[0][:2] for y in readers["test"].labels} == {"Ev"}


def test_random_split_seeded_and_workers_agree(raw, tmp_path):
    kw = {"split": "random", "fractions": (0.8, 0.0, 0.2), "shard_size": 50, "options": BACKGROUND}
    one = check_converter("omniglot", raw["tree"], tmp_path / "1", expected={"train": 192, "test": 48}, **kw)
    two = check_converter("omniglot", raw["tree"], tmp_path / "2", workers=2, **kw)
    other = check_converter("omniglot", raw["tree"], tmp_path / "3", seed=1, **kw)
    assert one["train"].dataset_hash == two["train"].dataset_hash != other["train"].dataset_hash
    assert len(two["train"].shard_paths) == 4


def _bad_zip(path: Path, good: Path) -> Path:
    """A copy of ``good`` (a zip) plus a corrupt PNG, an escaping entry and a folder that is not characterNN."""
    shutil.copy(good, path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("images_background/Bg_Script_01/character01/0777_01.png", b"\x89PNG\r\n\x1a\n truncated")
        zf.writestr(zipfile.ZipInfo("../escaped/Bg_Script_01/character01/0778_01.png"), png_bytes(np.zeros((9, 9))))
        zf.writestr("images_background/Bg_Script_01/figures/0779_01.png", png_bytes(np.zeros((9, 9))))
    return path


def test_bad_entries_skipped_counted_or_strict(raw, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _bad_zip(src / "images_background.zip", raw["zip"] / "images_background.zip")
    readers = check_converter("omniglot", src, tmp_path / "out")
    index = readers["train"].index
    assert sum(len(r) for r in readers.values()) == 240
    assert index["skipped"] == {
        JUNK: 4,
        "corrupt PNG": 1,
        UNSAFE: 1,
        ".png file not in a characterNN folder": 1,
    }
    assert any("figures/0779_01.png" in e for e in index["skipped_examples"])
    assert not list(tmp_path.rglob("escaped")) and not (tmp_path.parent / "escaped").exists()
    # the names' problems fail the scan; the corrupt PNG would fail its shard
    with pytest.raises(FormatError, match=r"(?=.*\.\./escaped)(?=.*characterNN folder)--strict: 2 bad input"):
        check_converter("omniglot", src, tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict" / "omniglot").exists()


def test_strict_names_corrupt_png_in_tree(tmp_path):
    root = write_omniglot(tmp_path / "raw", num_alphabets=1, characters=2, drawers=5)
    (root / "images_background/Bg_Script_01/character02/0002_03.png").write_bytes(b"not a png")
    with pytest.raises(FormatError, match=r"--strict: .*0002_03.png: not a readable image.*corrupt PNG"):
        check_converter("omniglot", root, tmp_path / "out", strict=True)
    readers = check_converter("omniglot", root, tmp_path / "out", split="random")
    assert sum(len(r) for r in readers.values()) == 9


def test_copies_counted_once_and_small_subsets(raw, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(raw["tree"] / "images_background", src / "images_background")
    shutil.copy(raw["zip"] / "images_background.zip", src)
    readers = check_converter("omniglot", src, tmp_path / "out", strict=True)  # second copies are not bad input
    assert sum(len(r) for r in readers.values()) == 240
    assert readers["train"].index["skipped"][SHADOWED] == 240
    small = tmp_path / "images_background_small1.zip"
    with zipfile.ZipFile(raw["zip"] / "images_background.zip") as zin, zipfile.ZipFile(small, "w") as zout:
        for name in zin.namelist():
            if "Bg_Script_01/" in name:
                zout.writestr(name.replace("images_background/", "images_background_small1/"), zin.read(name))
    one = check_converter("omniglot", small, tmp_path / "small", options={"label": "character"})
    assert one["train"].num_classes == 4 and one["train"].index["notes"]["sets"] == {"images_background_small1": 80}
    with pytest.raises(RawDataNotFoundError, match="sets found: images_background_small1 \\(80\\)"):
        check_converter("omniglot", small, tmp_path / "ev", options={"subset": "evaluation"})


def test_strokes_render_like_the_pngs(raw, tmp_path):
    kw = {"split": "random", "fractions": (1.0, 0.0, 0.0)}
    png = check_converter("omniglot", raw["zip"], tmp_path / "png", options=BACKGROUND, **kw)["train"]
    ink = check_converter("omniglot", raw["zip"], tmp_path / "ink", options={"modality": "strokes", **BACKGROUND},
                          **kw)["train"]
    assert ink.index["notes"]["sets"] == {"strokes_background": 240}
    np.testing.assert_array_equal(png.source_ids, ink.source_ids)
    a, b = png.images(), ink.images()
    matched, shuffled = iou(a, b), iou(a, np.roll(b, 1, axis=0))
    # Strokes are stored as drawn (one fixed pen width) while synthetic writers vary theirs (0.06-0.12 of the
    # size), so overlap is partial; pairing with the right PNG must still beat a wrong pairing almost always.
    assert np.median(matched) > 0.45 and (matched > shuffled).mean() > 0.9


def test_mixed_image_sizes_go_ragged(tmp_path):
    root = write_omniglot(tmp_path / "raw", num_alphabets=1, characters=2, drawers=4)
    write_omniglot(root, num_alphabets=1, characters=2, drawers=4, sets=("evaluation",), size=80, seed=1)
    conv = Omniglot(root, subset="all")
    catalog = conv.scan()
    batch = conv.load(np.array([0, 15]))
    assert catalog.native_size is None and [batch[i].shape for i in range(len(batch))] == [(105, 105), (80, 80)]
    conv.close()
    readers = check_converter("omniglot", root, tmp_path / "out", split="random", options={"subset": "all"})
    assert sum(len(r) for r in readers.values()) == 16 and readers["train"].image_size == 64


def test_options_checked():
    with pytest.raises(OptionError, match="--label takes alphabet | character"):
        Omniglot(Path("."), label="glyph")
    with pytest.raises(OptionError, match="--set"):
        Omniglot(Path("."), subset="train")
    with pytest.raises(OptionError, match="pen_width"):
        Omniglot(Path("."), modality="strokes", pen_width="thick")
    with pytest.raises(RawDataNotFoundError, match="charbench fetch omniglot"):
        Omniglot(Path("/nonexistent/omniglot")).scan()


def test_picklable_after_scan_and_load(raw):
    conv = Omniglot(raw["zip"], label="character")
    catalog = conv.scan()
    first = conv.load(np.arange(3))
    assert first.shape == (3, 105, 105) and catalog.native_size == 105 and conv._raw._open
    clone = pickle.loads(pickle.dumps(conv))
    np.testing.assert_array_equal(clone.load(np.arange(3)), first)
    conv.close()
    clone.close()


def test_episodes_over_character_shards(raw, tmp_path):
    train = check_converter("omniglot", raw["tree"], tmp_path / "out", options={"label": "character"})["train"]
    sampler = EpisodeSampler(train, n_way=5, k_shot=1, q_queries=3, seed=3, num_episodes=4)
    for i, (s_idx, s_lab, q_idx, q_lab) in enumerate(sampler):
        original = sampler.classes(i)
        np.testing.assert_array_equal(train.labels[s_idx], original[s_lab])
        np.testing.assert_array_equal(train.labels[q_idx], original[q_lab])


@pytest.mark.realdata
def test_real_small1_zips(real_data, tmp_path):
    folder = real_data / "omniglot"
    with zipfile.ZipFile(folder / "images_background_small1.zip") as zf:
        pngs = [n.split("/") for n in zf.namelist() if n.endswith(".png")]
        sample = {int(p[3][:4]) * 100 + int(p[3][5:7]): zf.read("/".join(p)) for p in pngs[::97]}
    alphabets = sorted({p[1] for p in pngs})
    characters = {f"{p[1]}/{p[2]}" for p in pngs}
    assert len(pngs) == 2720 and len(alphabets) == 5 and len(characters) == 136
    by_alpha = check_converter("omniglot", folder, tmp_path / "a")
    assert by_alpha["train"].class_names == alphabets and sum(len(r) for r in by_alpha.values()) == 2720
    chars = check_converter(
        "omniglot",
        folder / "images_background_small1.zip",
        tmp_path / "c",
        split="random",
        fractions=(1.0, 0.0, 0.0),
        options={"label": "character"},
    )["train"]
    assert set(chars.class_names) == characters and np.bincount(chars.labels).tolist() == [20] * 136
    assert set(chars.groups.tolist()) == set(range(1, 21))
    pos = {int(s): i for i, s in enumerate(chars.source_ids)}
    grey = np.stack([np.asarray(Image.open(io.BytesIO(b)).convert("L")) for b in sample.values()])
    expected = normalize(grey, size=64, binarize="none", center="mass", invert="auto")
    np.testing.assert_array_equal(chars.images()[[pos[s] for s in sample]], expected)
    strokes = check_converter(
        "omniglot",
        folder,
        tmp_path / "s",
        split="random",
        fractions=(1.0, 0.0, 0.0),
        options={"label": "character", "modality": "strokes"},
    )["train"]
    assert strokes.index["skipped"] == {JUNK: 4}
    np.testing.assert_array_equal(strokes.source_ids, chars.source_ids)
    matched = iou(chars.images(), strokes.images())
    shuffled = iou(chars.images(), np.roll(strokes.images(), 1, axis=0))
    assert np.median(matched) > 0.65 and (matched > shuffled).mean() > 0.98


def test_without_set_the_sets_the_source_holds_are_read_and_named(raw, tmp_path):
    only_eval = tmp_path / "eval"
    only_eval.mkdir()
    shutil.copy(raw["zip"] / "images_evaluation.zip", only_eval)
    readers = check_converter("omniglot", only_eval, tmp_path / "out", split="random")
    notes = readers["train"].index["notes"]
    assert notes["sets"] == {"images_evaluation": 240} and "images_evaluation (240 PNGs)" in notes["read"]
    both = check_converter("omniglot", raw["zip"], tmp_path / "both", split="random")
    assert both["train"].index["notes"]["sets"] == {"images_background": 240, "images_evaluation": 240}
    with pytest.raises(RawDataNotFoundError, match="sets found: images_evaluation"):
        check_converter("omniglot", only_eval, tmp_path / "bg", options=BACKGROUND)


def test_alphabet_trees_without_a_set_folder_read_like_the_official_layout(tmp_path):
    """The MAML / prototypical-network ``omniglot_resized/<Alphabet>/characterNN/*.png`` copy (28x28, both sets in one
    tree): sets from the official alphabet lists, drawers from NNNN_DD names, -1 without them."""
    official = write_omniglot(tmp_path / "official", num_alphabets=2, characters=2, drawers=6, size=28, junk=False,
                              sets=("background", "evaluation"), strokes=False)
    for top, renames in (("images_background", {"Bg_Script_01": "Greek"}), ("images_evaluation",
                                                                          {"Ev_Script_01": "Tengwar"})):
        for old, new in renames.items():
            (official / top / old).rename(official / top / new)
    resized = tmp_path / "src" / "omniglot_resized"
    for top in ("images_background", "images_evaluation"):
        shutil.copytree(official / top, resized, dirs_exist_ok=True)
    (resized / "Tengwar" / "character01" / min(os.listdir(resized / "Tengwar" / "character01"))).rename(
        resized / "Tengwar" / "character01" / "scan.png")
    kw = {"split": "random", "fractions": (1.0, 0.0, 0.0), "options": {"label": "character"}}
    a = check_converter("omniglot", official, tmp_path / "a", **kw)["train"]
    b = check_converter("omniglot", tmp_path / "src", tmp_path / "b", **kw)["train"]
    assert a.class_names == b.class_names and len(a) == len(b) == 48
    sets = b.index["notes"]["sets"]
    assert sets == {"images_background": 12, "images_evaluation": 12, "images_other": 24}
    assert (b.groups == -1).sum() == 1 and set(b.groups.tolist()) - {-1} == set(range(1, 7))
    by_id = dict(zip(a.source_ids.tolist(), a.images()))
    same = [i for i, sid in enumerate(b.source_ids.tolist()) if sid in by_id]
    assert len(same) == 23  # named drawings of the official alphabets keep their ids (Tengwar lost one name)
    np.testing.assert_array_equal(b.images()[same], np.stack([by_id[b.source_ids[i]] for i in same]))


@pytest.mark.realdata
def test_real_full_omniglot_zips(real_data, tmp_path):
    folder = real_data / "omniglot-full"
    for subset, alphabets, characters in (("background", 30, 964), ("evaluation", 20, 659)):
        conv = Omniglot(folder, label="character", subset=subset)
        catalog = conv.scan()
        names = [c.name for c in catalog.classes]
        assert len(catalog) == characters * 20 and len(names) == characters
        assert len({n.split("/")[0] for n in names}) == alphabets
        assert np.bincount(catalog.groups["drawer"]).tolist()[1:] == [characters] * 20
        assert catalog.native_size == 105
        conv.close()
    readers = check_converter("omniglot", folder / "images_evaluation.zip", tmp_path / "ev", size=28,
                              split="random", fractions=(1.0, 0.0, 0.0))
    train = readers["train"]
    assert train.num_classes == 20 and len(train) == 13_180
    assert not polarity(train.images())[0].any()  # white ink on black
