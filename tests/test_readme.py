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


def test_published_targets_table_lists_every_converter_target():
    """README's "Published targets" table and the targets the converters carry are the same set of figures."""
    from charbench.datasets import DATASETS

    section = README.read_text(encoding="utf-8").split("### Published targets", 1)[1].split("\n### ", 1)[0]
    listed = set()
    for row in re.findall(r"^\| (?!dataset |---)(.+?) \| (\S+) \| ([\d., ]+) \|", section, flags=re.MULTILINE):
        names, model, values = row
        family, _, configs = names.partition("/")
        spelled = [f"{family}/{c.strip()}" for c in configs.split(",")] if configs else [family]
        assert len(spelled) == len(values.split(",")), f"README row {names!r}: one figure per dataset"
        listed |= {(n, model, float(v)) for n, v in zip(spelled, values.split(","), strict=True)}
    carried = {(f"{name}/{t.config}" if t.config else name, t.model, t.value)
               for name in DATASETS.names() for t in DATASETS.get(name).targets}
    assert listed == carried
