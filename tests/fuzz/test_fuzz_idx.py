"""Fuzzing the idx and npz readers: any bytes end in a FormatError naming the file, never a crash or a big allocation.

Inputs: random bytes (plain and gzip-looking), every truncation of valid plain and gzipped files, and headers
promising terabytes over a few hundred bytes (read under an address-space cap). A call either returns an array that
agrees with its header and with the bytes actually present, or raises a CharbenchError whose message names the file.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import CharbenchError, FormatError
from charbench.io.idx import open_idx, read_header, read_idx
from charbench.io.npz import open_npz_array
from charbench.synth.idx import idx_bytes

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-idx")


def outcome(fn, path: Path):
    """``fn(path)``, or None when it raised a CharbenchError with a message naming the file; anything else fails."""
    try:
        return fn(path)
    except CharbenchError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        assert str(path) in str(exc), f"message does not name {path}: {exc}"
        return None


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


_NO_ALLOCATION = textwrap.dedent(
    """
    import gzip, json, resource, struct, sys, time
    from pathlib import Path
    import numpy as np
    from charbench.errors import FormatError
    from charbench.io.idx import open_idx, read_idx

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    work = Path(sys.argv[1])
    files = []
    for name, shape, gz in json.loads(sys.argv[2]):
        data = struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + bytes(784)
        path = work / name
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        files.append(path)
    # From here on, the process may grow by 64 MiB at most: a reader sizing a buffer from the header dies.
    cap = vm_bytes() + 64 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
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
)


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
    argv = [sys.executable, "-c", _NO_ALLOCATION, str(tmp_path), json.dumps(cases)]
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok"), proc.stdout
    assert float(proc.stdout.split()[1]) < 2.0, proc.stdout  # refused from the header, not after reading
    assert time.perf_counter() - started < 30


# --- npz (KMNIST / Kuzushiji-49 ship their arrays as .npz) ------------------------------------------------------------


def npz_with_member(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("arr_0.npy", payload)
    return buf.getvalue()


def test_npz_header_claiming_a_terabyte_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**12,)})
    path = tmp_path / "huge.npz"
    path.write_bytes(npz_with_member(header.getvalue() + bytes(16)))
    with pytest.raises(FormatError) as err:
        open_npz_array(path, workdir=tmp_path / "w")
    assert str(path) in str(err.value)
