"""Fuzzing the idx and npz readers: any bytes end in a FormatError naming the file, never a crash or a big allocation.

Inputs: random bytes, headers built from edge-case dimensions over small bodies, and mutations (truncation, byte
flips, splices, overwritten dimensions) of valid plain and gzipped files. A call either returns an array that agrees
with its header and with the bytes actually present, or raises a CharbenchError whose message names the file.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import FormatError
from charbench.io.idx import DTYPES, open_idx, read_header, read_idx
from charbench.io.npz import open_npz_array
from charbench.synth.idx import idx_bytes
from tests.fuzzing import mutate as shared_mutate
from tests.fuzzing import outcome, run_with_capped_memory

# Valid dtype codes plus neighbours of them; dims that overflow products or sit on uint32 / int32 / int64 edges.
CODES = sorted(DTYPES) + [0x00, 0x07, 0x0A, 0x0F, 0xFF]
EDGE_DIMS = [0, 1, 2, 3, 28, 255, 256, 2**16, 2**21, 2**22, 2**31 - 1, 2**31, 2**32 - 1]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

dims = st.one_of(st.sampled_from(EDGE_DIMS), st.integers(0, 2**32 - 1), st.integers(0, 40))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-idx")


def payload_of(data: bytes) -> bytes | None:
    """The plain idx bytes a file holds (gunzipped when it is a complete gzip stream), or None."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


def check_all_readers(path: Path, work: Path) -> None:
    """Run every reader on ``path``; successful reads must agree with the header and the bytes present."""
    header = outcome(read_header, path)
    results = [outcome(read_idx, path), outcome(lambda p: open_idx(p, work / "gunzip"), path)]
    arrays = [a for a in results if a is not None]
    if not arrays:
        return
    assert header is not None, "a reader accepted a file whose header read_header refuses"
    plain = payload_of(path.read_bytes())
    assert plain is not None, "a reader accepted a corrupt gzip stream"
    for arr in arrays:
        assert isinstance(arr, np.ndarray)
        assert arr.shape == header.shape and arr.dtype == header.dtype.newbyteorder("=")
        assert math.prod(arr.shape) * arr.dtype.itemsize == len(plain) - header.offset
        expected = np.frombuffer(plain, header.dtype, offset=header.offset).reshape(header.shape)
        np.testing.assert_array_equal(arr, expected)


def encode(code: int, ndim: int, shape: list[int], body: bytes, gz: bool) -> bytes:
    data = bytes([0, 0, code, ndim]) + b"".join(struct.pack(">I", d) for d in shape) + body
    return gzip.compress(data, mtime=0) if gz else data


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\x1f\x8b")
@example(data=b"\x00\x00\x08")
@example(data=b"\x00\x00\x08\x01\x00\x00\x00")
def test_random_bytes(work, data):
    path = work / "random.idx"
    path.write_bytes(data)
    check_all_readers(path, work)


@FUZZ
@given(
    code=st.sampled_from(CODES),
    shape=st.lists(dims, min_size=0, max_size=5),
    ndim_delta=st.sampled_from([0, 0, 0, -1, 1]),
    body=st.binary(max_size=64),
    gz=st.booleans(),
)
@example(code=0x08, shape=[10**6, 10**6, 1], ndim_delta=0, body=b"\x00" * 64, gz=False)
@example(code=0x08, shape=[2**32 - 1, 28, 28], ndim_delta=0, body=b"\x00" * 64, gz=True)
@example(code=0x0E, shape=[2**32 - 1, 2**32 - 1], ndim_delta=0, body=b"", gz=False)
@example(code=0x08, shape=[0, 2**32 - 1], ndim_delta=0, body=b"", gz=False)
def test_headers_with_edge_dimensions(work, code, shape, ndim_delta, body, gz):
    path = work / "header.idx"
    path.write_bytes(encode(code, max(0, len(shape) + ndim_delta) % 256, shape, body, gz))
    check_all_readers(path, work)


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """The shared byte edits, with kind 4 overwriting a header dimension by an edge value instead."""
    for kind, pos, value in ops:
        if kind != 4:
            data = shared_mutate(data, [(kind, pos, value)])
        elif len(data) >= 8:
            buf = bytearray(data)
            dim = 4 + 4 * (pos % max(1, (len(buf) - 4) // 4))
            buf[dim : dim + 4] = struct.pack(">I", EDGE_DIMS[value % len(EDGE_DIMS)])
            data = bytes(buf)
    return data


@FUZZ
@given(
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    dtype=st.sampled_from([np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"]),
    gz=st.booleans(),
    compress_after=st.booleans(),
    ops=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=4),
)
def test_mutated_valid_files(work, shape, dtype, gz, compress_after, ops):
    array = np.arange(math.prod(shape)).reshape(shape).astype(dtype)
    raw = idx_bytes(array)
    if gz and compress_after:  # mutate the idx bytes, then compress: the gzip layer is sound, the idx is not
        data = gzip.compress(mutate(raw, ops), mtime=0)
    else:  # mutate the file as stored: a damaged gzip stream when gz
        data = mutate(gzip.compress(raw, mtime=0) if gz else raw, ops)
    path = work / "mutated.idx"
    path.write_bytes(data)
    check_all_readers(path, work)


@pytest.mark.parametrize(
    "shape",
    [
        (2**16, 2**16, 2**16, 2**16),  # product 2**64: wraps to 0 in int64
        (2**21, 2**21, 2**22),  # the same with three dims (an "images" file)
        (2**32 - 1, 2**32 - 1),  # wraps to a negative byte count
        (2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1),
        (0, 2**21, 2**21, 2**21),  # no data at all, but numpy cannot even describe the empty array
    ],
)
@pytest.mark.parametrize("body", [b"", bytes(784)], ids=["empty", "784-bytes"])
def test_dimensions_numpy_cannot_hold_are_refused(tmp_path, shape, body):
    path = tmp_path / "overflow.idx"
    path.write_bytes(encode(0x08, len(shape), list(shape), body, gz=False))
    for reader in (read_idx, lambda p: open_idx(p, tmp_path / "w")):
        with pytest.raises(FormatError) as err:
            reader(path)
        assert str(path) in str(err.value)


@pytest.mark.parametrize("gz", [False, True])
def test_every_truncation_is_refused_with_the_file_name(tmp_path, gz):
    raw = idx_bytes(np.arange(2 * 3 * 4, dtype=">i2").reshape(2, 3, 4))
    data = gzip.compress(raw, mtime=0) if gz else raw
    path = tmp_path / "cut.idx"
    for n in range(len(data)):
        path.write_bytes(data[:n])
        for reader in (read_idx, lambda p: open_idx(p, tmp_path / "w")):
            with pytest.raises(FormatError) as err:
                reader(path)
            assert str(path) in str(err.value), (n, str(err.value))
    path.write_bytes(data)
    assert read_idx(path).shape == (2, 3, 4)


_NO_ALLOCATION = """
    import gzip, json, struct, sys, time
    from pathlib import Path
    from charbench.errors import FormatError
    from charbench.io.idx import open_idx, read_idx

    work = Path(sys.argv[1])
    files = []
    for name, shape, gz in json.loads(sys.argv[2]):
        data = struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + bytes(784)
        path = work / name
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        files.append(path)
    cap_address_space()
    start = time.perf_counter()
    for path in files:
        for reader in (read_idx, lambda p: open_idx(p, work / "gunzip")):
            try:
                reader(path)
            except FormatError as exc:
                assert str(path) in str(exc), str(exc)
            else:
                raise SystemExit(f"{path.name}: accepted a header promising more than the file holds")
    print(f"ok {time.perf_counter() - start:.3f}")
"""


def test_header_claiming_a_trillion_images_is_refused_before_allocating(tmp_path):
    """Headers promising ~10**12 pixels / ~3.4 TB over 784 bytes, read under an address-space cap of +64 MiB."""
    cases = [
        ("trillion.idx", (10**6, 10**6, 1), False),
        ("trillion.idx.gz", (10**6, 10**6, 1), True),
        ("max-images.idx", (2**32 - 1, 28, 28), False),
        ("max-images.idx.gz", (2**32 - 1, 28, 28), True),
        ("max-labels.idx", (2**32 - 1,), False),
    ]
    started = time.perf_counter()
    proc = run_with_capped_memory(_NO_ALLOCATION, str(tmp_path), json.dumps(cases))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok"), proc.stdout
    assert float(proc.stdout.split()[1]) < 2.0, proc.stdout  # refused from the header, not after reading
    assert time.perf_counter() - started < 30


# --- npz (KMNIST / Kuzushiji-49 ship their arrays as .npz) ------------------------------------------------------------


def npz_bytes(array: np.ndarray, compressed: bool = False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, array)
    return buf.getvalue()


def central_entry(data: bytes, offset: int, value: int) -> bytes:
    """Overwrite one byte of the first central-directory record (6: version needed, 8: flags, 10: method)."""
    buf = bytearray(data)
    buf[buf.find(b"PK\x01\x02") + offset] = value
    return bytes(buf)


def npz_with_member(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("arr_0.npy", payload)
    return buf.getvalue()


def check_npz(path: Path, work: Path) -> None:
    arr = outcome(lambda p: open_npz_array(p, workdir=work / "npz"), path)
    if arr is not None:
        assert isinstance(arr, np.ndarray)
        np.asarray(arr).sum()  # every byte the header promises is there


_GOOD_NPZ = npz_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=central_entry(_GOOD_NPZ, 6, 99))  # "zip file version 9.9": NotImplementedError
@example(data=central_entry(_GOOD_NPZ, 10, 99))  # unknown compression method: NotImplementedError
@example(data=central_entry(_GOOD_NPZ, 8, 0x01))  # encrypted flag: RuntimeError
@example(data=central_entry(_GOOD_NPZ, 8, 0x08))  # utf-8 name flag
@example(data=npz_with_member(b""))  # empty .npy: EOFError
@example(data=npz_with_member(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<u1',\n"))  # cut header
def test_npz_random_bytes(work, data):
    path = work / "random.npz"
    path.write_bytes(data)
    check_npz(path, work)


@FUZZ
@given(
    compressed=st.booleans(),
    ops=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=4),
)
def test_npz_mutated(work, compressed, ops):
    path = work / "mutated.npz"
    path.write_bytes(mutate(npz_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5), compressed), ops))
    check_npz(path, work)


def test_npz_header_claiming_a_terabyte_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**12,)})
    path = tmp_path / "huge.npz"
    path.write_bytes(npz_with_member(header.getvalue() + bytes(16)))
    with pytest.raises(FormatError) as err:
        open_npz_array(path, workdir=tmp_path / "w")
    assert str(path) in str(err.value)
