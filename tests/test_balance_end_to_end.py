"""``--balance`` end to end on imbalanced Kuzushiji-layout pages: the checks of the class-balancing issue.

Every kept training class ends with exactly N images; val/test keep their natural distribution (the very same
examples as an unbalanced run); no page (or book) feeds two splits; oversampled copies differ from their originals
and from each other; index.json records the histograms and ``charbench inspect`` plots them; results do not depend
on the worker count.
"""

import hashlib

import numpy as np
import pytest

from charbench.cli.main import main
from charbench.inspect import summarize
from charbench.synth.pages import write_kaggle_pages
from tests.checks import check_converter

N = 20


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return write_kaggle_pages(
        tmp_path_factory.mktemp("pages"), num_classes=10, num_pages=12, boxes_per_page=30, num_books=4, zipf=1.3
    )


@pytest.fixture(scope="module")
def runs(pages, tmp_path_factory):
    """An unbalanced and a balanced prepare of the same pages, same split."""
    out = tmp_path_factory.mktemp("prepared")
    plain = check_converter("kuzushiji", pages.root, out / "plain")
    balanced = check_converter("kuzushiji", pages.root, out / "balanced", balance=N)
    return plain, balanced


def _counts(reader) -> np.ndarray:
    return np.bincount(reader.labels, minlength=reader.num_classes)


def test_source_is_imbalanced(runs):
    before = _counts(runs[0]["train"])
    assert before.max() >= 4 * N and 0 < before[before > 0].min() < N / 2  # both capping and filling happen


def test_every_kept_train_class_has_exactly_n(runs):
    plain, balanced = runs
    before, after = _counts(plain["train"]), _counts(balanced["train"])
    assert after.tolist() == [N if b > 0 else 0 for b in before]
    balance = balanced["train"].index["balance"]
    assert balance["train_before"] == before.tolist() and balance["train_after"] == after.tolist()
    assert balance["target"] == N and balance["mode"] == "both" and balance["dropped_classes"] == []
    copies = int((balanced["train"].variants > 0).sum())
    assert copies == int(np.maximum(N - before[before > 0], 0).sum())
    assert balanced["train"].index["splits"]["train"]["varied_copies"] == copies


def test_val_and_test_keep_their_natural_distribution(runs):
    plain, balanced = runs
    for split in ("val", "test"):
        a, b = plain[split], balanced[split]
        np.testing.assert_array_equal(a.source_ids, b.source_ids)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.images(), b.images())
        assert (b.variants == 0).all()
        assert b.index["splits"][split]["class_counts"] == _counts(a).tolist()


def test_no_page_in_two_splits(runs):
    for readers in runs:
        pages = {s: set(r.groups.tolist()) for s, r in readers.items()}
        assert set(pages) == {"train", "val", "test"}
        assert pages["train"].isdisjoint(pages["val"] | pages["test"]) and pages["val"].isdisjoint(pages["test"])


def test_copies_are_varied_and_trace_back_to_their_original(runs):
    train = runs[1]["train"]
    images = train.images()
    key = {(s, v): i for i, (s, v) in enumerate(zip(train.source_ids.tolist(), train.variants.tolist()))}
    copies = np.flatnonzero(train.variants > 0)
    assert len(copies) > 0
    for i in copies:
        original = key[(int(train.source_ids[i]), 0)]  # the original is in train too, with variant 0
        assert train.labels[i] == train.labels[original] and train.groups[i] == train.groups[original]
        assert not np.array_equal(images[i], images[original])
    digests = {}
    for i, img in enumerate(images):
        digests.setdefault(hashlib.sha256(img.tobytes()).hexdigest(), []).append(i)
    for same in digests.values():  # byte-identical training images only where the originals themselves were
        assert len(same) == 1 or (train.variants[same] == 0).all(), f"identical images {same}"


def test_min_count_drops_small_classes_from_every_split(pages, runs, tmp_path):
    before = _counts(runs[0]["train"])
    k = int(np.sort(before[before > 0])[2]) + 1  # at least three classes fall under it
    readers = check_converter("kuzushiji", pages.root, tmp_path / "out", balance=N, min_count=k)
    dropped = [c for c in range(len(before)) if 0 < before[c] < k]
    names = readers["train"].class_names
    assert len(dropped) >= 3 and readers["train"].index["balance"]["dropped_classes"] == [names[c] for c in dropped]
    for split, r in readers.items():
        assert not np.isin(r.labels, dropped).any(), split
    assert _counts(readers["train"]).tolist() == [N if b >= k else 0 for b in before]


@pytest.mark.parametrize("mode", ["cap", "oversample"])
def test_cap_and_oversample_modes(pages, runs, tmp_path, mode):
    before = _counts(runs[0]["train"])
    readers = check_converter("kuzushiji", pages.root, tmp_path / "out", balance=N, balance_mode=mode)
    after = _counts(readers["train"])
    if mode == "cap":
        assert after.tolist() == np.minimum(before, N).tolist() and (readers["train"].variants == 0).all()
    else:
        assert after.tolist() == [max(b, N) if b else 0 for b in before]


def test_balance_with_book_groups(pages, tmp_path):
    readers = check_converter(
        "kuzushiji", pages.root, tmp_path / "out", balance=N, group_by="book", fractions=(0.5, 0.25, 0.25)
    )
    books = {s: set(r.groups.tolist()) for s, r in readers.items()}
    assert sum(len(b) for b in books.values()) == len(set.union(*books.values())) == 4
    counts = _counts(readers["train"])
    assert set(counts[counts > 0].tolist()) == {N}


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # class names in the sample grid
def test_same_content_whatever_the_worker_count_and_plot(runs, pages, tmp_path):
    one = check_converter("kuzushiji", pages.root, tmp_path / "one", balance=N, workers=1, shard_size=100)
    two = check_converter("kuzushiji", pages.root, tmp_path / "two", balance=N, workers=2, shard_size=100)
    assert len(two["train"].shard_paths) > 1
    for split in ("train", "val", "test"):
        shards = [
            [(s["count"], s["content_sha256"]) for s in r[split].index["splits"][split]["shards"]] for r in (one, two)
        ]
        assert shards[0] == shards[1]  # file sha256s differ only by the creation-time attribute
        assert two[split].content_hash == one[split].content_hash
        whole = runs[1][split]  # one shard per split: same examples, same pixels
        np.testing.assert_array_equal(two[split].images(), whole.images())
        np.testing.assert_array_equal(two[split].source_ids, whole.source_ids)
    one = runs[1]["train"]
    reseeded = check_converter("kuzushiji", pages.root, tmp_path / "seed1", balance=N, seed=1)
    assert reseeded["train"].dataset_hash != one.dataset_hash
    png = tmp_path / "inspect.png"
    assert main(["inspect", str(one.path), "--png", str(png)]) == 0
    plot = tmp_path / "inspect-balance.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


@pytest.fixture(scope="module")
def rare(tmp_path_factory):
    """Many Zipf classes over few pages: some classes occur on val/test pages only, none on a training page."""
    tmp = tmp_path_factory.mktemp("rare")
    raw = write_kaggle_pages(tmp / "raw", num_classes=40, num_pages=10, boxes_per_page=30, num_books=4, zipf=1.3)
    plain = check_converter("kuzushiji", raw.root, tmp / "plain")
    return (plain, check_converter("kuzushiji", raw.root, tmp / "out", balance=N, min_count=2),
            check_converter("kuzushiji", raw.root, tmp / "default", balance=N))


def test_rare_classes_reach_val_and_test_without_training_images_and_are_listed(rare, capsys):
    plain = rare[0]
    evaluated = np.concatenate([plain[s].labels for s in ("val", "test")])
    unseen = sorted({int(c) for c in evaluated if _counts(plain["train"])[c] == 0})
    assert unseen  # a group split put some rare classes on val/test pages only
    record = plain["train"].index["classes_without_training_images"]
    assert record["count"] == len(unseen) and record["names"] == [plain["train"].class_names[c] for c in unseen]
    assert sum(record["examples"].values()) == int(np.isin(evaluated, unseen).sum())
    info = summarize(plain["train"].path)
    assert info["classes_without_training_images"] == record and any("no training image" in w for w in info["warnings"])


def test_balance_drops_classes_without_a_training_original_by_default(rare):
    plain, _, default = rare
    assert default["train"].index["balance"]["min_count"] == 1
    assert default["train"].index["classes_without_training_images"] is None
    trained = set(default["train"].labels.tolist())
    for split in ("val", "test"):
        assert set(default[split].labels.tolist()) <= trained, split
    names = plain["train"].index["classes_without_training_images"]["names"]
    assert set(names) <= set(default["train"].index["balance"]["dropped_classes"])


def test_min_count_drops_classes_with_no_training_image_too(rare):
    rare = rare[1]
    before = np.asarray(rare["train"].index["balance"]["train_before"])
    small = np.flatnonzero(before < 2)
    names = rare["train"].class_names
    for split in ("val", "test"):
        assert not np.isin(rare[split].labels, small).any(), split
    assert rare["train"].index["balance"]["dropped_classes"] == [names[c] for c in small]
