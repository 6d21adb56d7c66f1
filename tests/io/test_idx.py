import gzip
import struct

import numpy as np
import pytest

from charbench.errors import FormatError
from charbench.io.idx import open_idx, read_header, read_idx
from charbench.synth.idx import idx_bytes, write_idx


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_roundtrip_every_dtype(tmp_path, gz, dtype):
    a = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), a)
    np.testing.assert_array_equal(read_idx(path), a)
    np.testing.assert_array_equal(open_idx(path, tmp_path / "work"), a)
    assert read_header(path).shape == (2, 3, 5)


def test_header_and_magic(tmp_path):
    path = write_idx(tmp_path / "img", np.zeros((4, 28, 28), np.uint8))
    assert read_header(path).magic == 0x00000803
    lbl = write_idx(tmp_path / "lbl", np.zeros(4, np.uint8))
    assert read_header(lbl).magic == 0x00000801


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_is_refused_with_its_name(tmp_path, gz):
    data = idx_bytes(np.ones((10, 28, 28), np.uint8))[:-100]
    path = tmp_path / ("cut.gz" if gz else "cut")
    path.write_bytes(gzip.compress(data) if gz else data)
    for reader in (read_idx, lambda p: open_idx(p, tmp_path / "w")):
        with pytest.raises(FormatError, match="truncated") as err:
            reader(path)
        assert str(path) in str(err.value)


def test_trailing_bytes_refused(tmp_path):
    path = tmp_path / "extra"
    path.write_bytes(idx_bytes(np.ones((2, 2, 2), np.uint8)) + b"xx")
    with pytest.raises(FormatError, match="unexpected bytes"):
        read_idx(path)


@pytest.mark.parametrize("head", [b"", b"\x00\x00", b"\x01\x00\x08\x03", b"\x00\x00\x07\x03", b"\x00\x00\x08\x09"])
def test_bad_magic(tmp_path, head):
    path = tmp_path / "bad"
    path.write_bytes(head + b"\x00" * 12)
    with pytest.raises(FormatError):
        read_header(path)


def test_huge_header_refused_without_allocating(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(struct.pack(">HBBIII", 0, 8, 3, 10**9, 1000, 1000) + b"\x00" * 64)
    with pytest.raises(FormatError, match="truncated"):
        read_idx(path)
    with pytest.raises(FormatError, match="truncated"):
        open_idx(path)


def test_real_mnist_matches_independent_parse(real_data):
    raw = real_data / "idx" / "MNIST" / "raw"
    data = gzip.decompress((raw / "t10k-images-idx3-ubyte.gz").read_bytes())
    magic, n, h, w = struct.unpack(">IIII", data[:16])
    independent = np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w)
    assert magic == 0x803
    np.testing.assert_array_equal(read_idx(raw / "t10k-images-idx3-ubyte.gz"), independent)
    np.testing.assert_array_equal(read_idx(raw / "t10k-labels-idx1-ubyte"), read_idx(raw / "t10k-labels-idx1-ubyte.gz"))
