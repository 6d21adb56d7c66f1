"""Every converter's synthetic dataset keeps the content hash it had when it was recorded (same input, same shards)."""

import json
from pathlib import Path

import pytest

from charbench.prepare import PrepareConfig, prepare
from charbench.shards.index import read_index
from tests.datasets.synthetic_cases import CASES

GOLDEN = Path(__file__).with_name("golden_content_hashes.json")


def content_hash(case: str, tmp: Path) -> str:
    converter, write, kwargs = CASES[case]
    source = write(tmp / "raw")
    path = prepare(PrepareConfig(name=converter, source=source, out=tmp / "out", progress=False, workers=1, **kwargs))
    return read_index(path)["content_sha256"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_content_hash_unchanged(case, tmp_path):
    golden = json.loads(GOLDEN.read_text())
    assert case in golden, f"no recorded hash for {case}: run python -m tests.datasets.test_content_hashes"
    assert content_hash(case, tmp_path) == golden[case]


if __name__ == "__main__":  # python -m tests.datasets.test_content_hashes: record the hashes of new cases
    import tempfile

    golden = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    for case in sorted(CASES):
        if case not in golden:
            with tempfile.TemporaryDirectory() as tmp:
                golden[case] = content_hash(case, Path(tmp))
            print(case, golden[case])
    GOLDEN.write_text(json.dumps(dict(sorted(golden.items())), indent=1) + "\n")
