"""MNIST-family idx converters: synthetic files in every layout, and the real files when present."""

import gzip
import struct

import numpy as np
import pytest

from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.io.idx import read_idx
from charbench.kernels.polarity import polarity
from charbench.synth.idx import write_idx, write_mnist_layout
from tests.checks import check_converter


def test_official_split_pixel_exact(tmp_path):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=20, test_per_class=5)
    readers = check_converter("mnist", raw, tmp_path / "out", val_fraction=0.1)
    assert {s: len(r) for s, r in readers.items()} == {"train": 180, "val": 20, "test": 50}
    train_imgs, test_imgs = read_idx(raw / "train-images-idx3-ubyte.gz"), read_idx(raw / "t10k-images-idx3-ubyte.gz")
    train_lbls = read_idx(raw / "train-labels-idx1-ubyte.gz")
    test = readers["test"]
    np.testing.assert_array_equal(test.images(), test_imgs[test.source_ids - 2_000_000_000])
    for split in ("train", "val"):
        r = readers[split]
        np.testing.assert_array_equal(r.images(), train_imgs[r.source_ids])
        np.testing.assert_array_equal(r.labels, train_lbls[r.source_ids])
    assert readers["train"].class_names == [str(d) for d in range(10)]


def test_torchvision_layout_unpacked_and_mixed(tmp_path):
    raw = write_mnist_layout(tmp_path / "root" / "MNIST" / "raw", train_per_class=5, test_per_class=2, gz=False)
    write_mnist_layout(tmp_path / "root" / "FashionMNIST" / "raw", train_per_class=3, test_per_class=1)
    (raw / "t10k-labels-idx1-ubyte").rename(raw / "t10k-labels-idx1-ubyte.bak")
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", read_idx(raw / "t10k-labels-idx1-ubyte.bak"))
    readers = check_converter("mnist", tmp_path / "root", tmp_path / "out")
    assert sum(len(r) for r in readers.values()) == 70
    fashion = check_converter("fashion-mnist", tmp_path / "root", tmp_path / "out2")
    assert sum(len(r) for r in fashion.values()) == 40
    assert fashion["test"].class_names[9] == "Ankle boot"


def test_test_files_only_prepare_test_split(tmp_path):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=5, test_per_class=3)
    for f in raw.glob("train-*"):
        f.unlink()
    readers = check_converter("mnist", raw, tmp_path / "out")
    assert list(readers) == ["test"]
    assert readers["test"].index["notes"]["missing_splits"] == ["train"]
    again = check_converter("mnist", raw, tmp_path / "out2", split="random", fractions=(0.6, 0.2, 0.2))
    assert {s: len(r) for s, r in again.items()} == {"train": 18, "val": 6, "test": 6}


def test_emnist_transposed_and_mapping(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    images[:, 0, 5] = 255  # stored transposed: row 0, column 5 is upright row 5, column 0
    write_idx(tmp_path / "emnist-letters-train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz", np.array([1, 2, 26], np.uint8))
    write_idx(tmp_path / "emnist-letters-test-images-idx3-ubyte.gz", images[:1])
    write_idx(tmp_path / "emnist-letters-test-labels-idx1-ubyte.gz", np.array([3], np.uint8))
    lines = [f"{i} {64 + i} {96 + i}" for i in range(1, 27)]
    (tmp_path / "emnist-letters-mapping.txt").write_text("\n".join(lines) + "\n")
    readers = check_converter("emnist-letters", tmp_path, tmp_path / "out", val_fraction=0)
    train = readers["train"]
    assert train.class_names[:2] == ["A/a", "B/b"] and train.num_classes == 26
    assert train.labels.tolist() == [0, 1, 25]
    assert (train.images()[:, 5, 0] == 255).all() and (train.images()[:, 0, 5] == 0).all()


def test_qmnist_writer_groups(tmp_path):
    gen_images = np.random.default_rng(0).integers(0, 255, (40, 28, 28), dtype=np.uint8)
    table = np.zeros((40, 8), np.int32)
    table[:, 0] = np.arange(40) % 10
    table[:, 2] = np.arange(40) // 4 + 100
    write_idx(tmp_path / "qmnist-train-images-idx3-ubyte.gz", gen_images)
    write_idx(tmp_path / "qmnist-train-labels-idx2-int.gz", table.astype(">i4"))
    readers = check_converter("qmnist", tmp_path, tmp_path / "out", split="group", fractions=(0.6, 0.2, 0.2))
    writers = {s: set(r.groups.tolist()) for s, r in readers.items()}
    assert writers["train"].isdisjoint(writers["test"]) and writers["train"].isdisjoint(writers["val"])


def test_generic_idx_any_size(tmp_path):
    imgs = np.random.default_rng(1).integers(0, 255, (30, 50, 50), dtype=np.uint8)
    write_idx(tmp_path / "chars-images-idx3-ubyte", imgs)
    write_idx(tmp_path / "chars-labels-idx1-ubyte", np.repeat([3, 7, 9], 10).astype(np.uint8))
    with pytest.raises(OptionError, match=r"cannot tell the ink polarity of telugu-like.*--invert yes"):
        check_converter("idx", tmp_path, tmp_path / "noise", output_name="telugu-like", split="random")
    readers = check_converter("idx", tmp_path, tmp_path / "out", output_name="telugu-like", split="random",
                              invert="no")  # noise has no polarity: the user says
    r = readers["train"]
    assert r.image_size == 50 and r.class_names == ["3", "7", "9"] and r.name == "telugu-like"
    np.testing.assert_array_equal(r.images(), imgs[r.source_ids])


def test_generic_idx_dark_ink_is_inverted_whole(tmp_path):
    """Dark ink on white, kept pixel-exact: the dataset is inverted as a whole (255 - x), and index.json says so."""
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=4, test_per_class=2, gz=False)
    for f in raw.glob("*images*"):
        write_idx(f, 255 - read_idx(f))
    readers = check_converter("idx", raw, tmp_path / "out", output_name="dark")
    images = {"train": read_idx(raw / "train-images-idx3-ubyte"), "test": read_idx(raw / "t10k-images-idx3-ubyte")}
    for split, r in readers.items():
        rows = r.source_ids % 1_000_000_000
        np.testing.assert_array_equal(r.images(), 255 - images["test" if split == "test" else "train"][rows])
    norm = readers["train"].index["normalization"]
    assert norm["invert"] == "yes" and norm["polarity"]["dark_ink_share"] == 1.0


def test_count_mismatch_and_missing(tmp_path):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=2, test_per_class=1)
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(FormatError, match="10 images but .* 3 labels"):
        check_converter("mnist", raw, tmp_path / "out")
    assert not (tmp_path / "out" / "mnist").exists()
    with pytest.raises(RawDataNotFoundError, match="charbench fetch mnist"):
        check_converter("mnist", tmp_path / "nothing-here", tmp_path / "out")


def test_wrong_magic_names_file(tmp_path):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=2, test_per_class=1)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", np.zeros(10, np.uint8))
    with pytest.raises(FormatError, match="magic 0x00000803 expected for images, got 0x00000801 in .*t10k-images"):
        check_converter("mnist", raw, tmp_path / "out")


@pytest.mark.realdata
def test_real_mnist_pixel_exact(real_data, tmp_path):
    raw = real_data / "idx"  # torchvision layout: idx/MNIST/raw
    readers = check_converter("mnist", raw, tmp_path / "out", shard_size=4000)
    test = readers["test"]
    data = gzip.decompress((raw / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").read_bytes())
    independent = np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer((raw / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    order = test.source_ids - 2_000_000_000
    np.testing.assert_array_equal(test.images(), independent[order])
    np.testing.assert_array_equal(test.labels, labels[order])
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert len(test.shard_paths) == 3


def _telugu(raw):
    imgs = np.frombuffer((raw / "t10k-images-idx3-ubyte").read_bytes(), np.uint8, offset=16).reshape(-1, 50, 50)
    labels = np.frombuffer((raw / "t10k-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    return imgs, labels


@pytest.mark.realdata
def test_real_telugu_50px_comes_out_white_ink_on_black(real_data, tmp_path):
    """Real Telugu idx files are dark ink on white paper: kept pixel-exact, the whole dataset is inverted."""
    raw = real_data / "idx" / "telugu"
    readers = check_converter("idx", raw, tmp_path / "out", output_name="telugu", split="random")
    imgs, labels = _telugu(raw)
    magic, n = struct.unpack(">II", (raw / "t10k-labels-idx1-ubyte").read_bytes()[:8])
    assert magic == 0x801 and sum(len(r) for r in readers.values()) == n == 1591
    assert (imgs[:, 0, :] > 127).mean() > 0.9  # the raw frame is white paper
    for r in readers.values():
        np.testing.assert_array_equal(r.images(), 255 - imgs[r.source_ids % 1_000_000_000])
        assert [r.class_names[y] for y in r.labels] == [str(v) for v in labels[r.source_ids % 1_000_000_000]]
    assert readers["train"].num_classes == 16 and readers["train"].index["normalization"]["invert"] == "yes"


@pytest.mark.realdata
def test_real_telugu_binarised_equals_opencv_otsu_of_the_inverted_image(real_data, tmp_path):
    import cv2

    raw = real_data / "idx" / "telugu"
    imgs, _ = _telugu(raw)
    kept = check_converter("idx", raw, tmp_path / "native", output_name="telugu", split="random",
                           center="none", binarize="otsu")
    for r in kept.values():
        expected = [cv2.threshold(255 - im, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
                    for im in imgs[r.source_ids % 1_000_000_000]]
        np.testing.assert_array_equal(r.images(), np.stack(expected))
    small = check_converter("idx", raw, tmp_path / "small", output_name="telugu", split="random", size=32,
                            binarize="otsu")
    for r in small.values():  # white ink on black, not a white square with a black frame
        x = r.images()
        dark, ink = polarity(x)
        assert x.shape[1:] == (32, 32) and not dark.any() and 0.02 < ink.mean() < 0.2
        assert (x[:, 0, :] > 127).mean() < 0.05 and (x[:, :, 0] > 127).mean() < 0.05


@pytest.mark.realdata
def test_real_kmnist_npz(real_data, tmp_path):
    raw = real_data / "kuzushiji" / "kmnist"
    readers = check_converter("kmnist", raw, tmp_path / "out", split="random")
    with np.load(raw / "kmnist-test-imgs.npz") as z:
        imgs = z["arr_0"]
    with np.load(raw / "kmnist-test-labels.npz") as z:
        labels = z["arr_0"]
    for r in readers.values():
        idx = r.source_ids % 1_000_000_000
        np.testing.assert_array_equal(r.images(), imgs[idx])
        np.testing.assert_array_equal(r.labels, labels[idx])
    assert readers["train"].class_names[0] == "お" and readers["train"].index["classes"][0]["codepoint"] == 0x304A
