"""The deflate backend: ISA-L when installed, the standard library otherwise; both give plain zlib streams."""

import subprocess
import sys
import zlib

import numpy as np

from charbench.deflate import deflate


def test_deflate_gives_a_zlib_stream():
    data = np.random.default_rng(0).integers(0, 4, 100_000, dtype=np.uint8).tobytes()
    assert zlib.decompress(deflate(data, 1)) == data


def test_falls_back_to_the_standard_library_without_isal(tmp_path):
    script = (
        "import sys; sys.modules['isal'] = None\n"
        "import gzip, zlib, pathlib\n"
        "from charbench.deflate import BACKEND, deflate, open_gzip\n"
        "assert BACKEND == 'zlib', BACKEND\n"
        "assert zlib.decompress(deflate(b'abc' * 1000, 1)) == b'abc' * 1000\n"
        f"p = pathlib.Path({str(tmp_path / 'x.gz')!r}); p.write_bytes(gzip.compress(b'hello'))\n"
        "assert open_gzip(p).read() == b'hello'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
