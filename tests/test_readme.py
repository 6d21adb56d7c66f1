"""The README's examples run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_plain_h5py_example_runs_verbatim(tiny_dataset, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    (example,) = [b for b in blocks if "import json, h5py" in b]
    dataset = tiny_dataset(per_class=5)  # <tmp>/prepared/mnist, as the example expects
    monkeypatch.chdir(dataset.parent.parent)
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102 - the README example is the test
    assert scope["images"].shape[1:] == (28, 28) and len(scope["labels"]) == len(scope["images"])
    assert scope["names"] == [str(d) for d in range(10)]


def test_every_command_in_the_cli_is_documented():
    from charbench.cli.main import COMMANDS

    text = README.read_text(encoding="utf-8")
    assert all(f"charbench {name}" in text for name in COMMANDS)
