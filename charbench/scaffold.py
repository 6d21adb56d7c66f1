"""``charbench new NAME``: the skeleton of a new dataset, as the README's "Adding a dataset" describes it.

Three things are written, and nothing else needs to change for the dataset to be found: the converter module
``charbench/datasets/<module>.py`` (registered on import, as every module of that package is), its test
``tests/datasets/test_<module>.py``, and an entry in ``data_manifest.yaml``. Every place to fill in carries a
``TODO(<name>)`` marker; until then the converter raises NotImplementedError and its tests fail, which is the point.
"""

from __future__ import annotations

import re
from pathlib import Path

from charbench.errors import CharbenchError, OptionError

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

CONVERTER = '''"""{title}: TODO({name}) one line on what the dataset is.

Homepage: TODO({name}). License: TODO({name}). Citation: TODO({name}).
Raw format: TODO({name}) the files as the publisher ships them, and the layouts users keep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.datasets.base import Catalog, Converter, Defaults, register_dataset
from charbench.targets import Target


@register_dataset("{name}")
class {cls}(Converter):
    """TODO({name}) one line."""

    VERSION = "1.0.0"  # bump when the output for the same input changes
    defaults = Defaults(size=32, binarize="otsu", center="mass", split="random")  # TODO({name}) the family's
    reference_models = ("simple_cnn",)  # TODO({name}) the models the field trains on it
    targets: tuple[Target, ...] = ()  # TODO({name}) published figures: Target(model, value, source, protocol, ...)

    def roles(self) -> tuple[str, ...]:
        return ()  # TODO({name}) manifest roles of the files found by name (self.file_names(role) gives the names)

    def scan(self) -> Catalog:
        source = self.open_source()  # folders, zips and tars alike; junk and unsafe entries already counted
        raise NotImplementedError(f"TODO({name}): build a Catalog from the names and label files in {{source}}; "
                                  "record inputs left out with self.skips.add(reason, name)")

    def load(self, rows: np.ndarray):
        raise NotImplementedError("TODO({name}): decode these rows as uint8 [n, H, W] or a Ragged batch")

    def write_synthetic(self, root: Path) -> Path:
        raise NotImplementedError("TODO({name}): write a few synthetic raw files (charbench.synth) under root")
'''

TEST = '''"""{name}: the converter on its synthetic source (and, TODO({name}), on real files under ../shared/data)."""

from charbench.datasets import resolve
from tests.checks import check_converter


def test_synthetic_source_prepares(tmp_path):
    cls, config = resolve("{name}")
    source = cls(tmp_path, config=config).write_synthetic(tmp_path / "raw")
    readers = check_converter("{name}", source, tmp_path / "out")
    assert sum(len(r) for r in readers.values()) > 0  # TODO({name}) the exact counts, classes and pixels
'''

MANIFEST_ENTRY = '''- name: {name}
  title: {title}  # TODO({name})
  format: png_tree  # TODO({name}) one of charbench.manifest.FORMATS
  access: form  # TODO({name}) direct (with urls), kaggle or form
  access_command: null
  raw_name: {name}
  homepage: https://example.org/TODO-{name}
  license: TODO({name})
  citation: TODO({name})
  num_classes: 1  # TODO({name})
  splits: {{}}
  notes: TODO({name}) quirks worth knowing; sha256 values come from scripts/hash_manifest.py, never typed.
  files:
  - name: TODO-{name}.zip
    role: all
    urls: []
    sha256: null
    size: null
    checksum_source: null
'''


def module_name(name: str) -> str:
    return name.replace("-", "_")


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def scaffold(name: str, root: Path) -> list[Path]:
    """Write the three files of a new dataset ``name`` under the checkout ``root``; returns them.

    Raises:
        OptionError: ``name`` is not lower-case words joined by ``-``.
        CharbenchError: a file would be overwritten, or the name is taken.
    """
    if not _NAME.fullmatch(name):
        raise OptionError(f"dataset names are lower-case words joined by '-' (like kuzushiji-kanji); got {name!r}")
    from charbench.datasets import DATASETS

    if name in DATASETS:
        raise CharbenchError(f"a dataset called {name!r} is registered already")
    root = Path(root)
    module, manifest = root / "charbench" / "datasets" / f"{module_name(name)}.py", root / "data_manifest.yaml"
    test = root / "tests" / "datasets" / f"test_{module_name(name)}.py"
    for path in (module, test):
        if path.exists():
            raise CharbenchError(f"{path} exists already; remove it or choose another name")
    if not manifest.is_file():
        raise CharbenchError(f"no data_manifest.yaml in {root}: run charbench new in a charbench checkout (--root)")
    text = manifest.read_text(encoding="utf-8")
    if re.search(rf"^- name: {re.escape(name)}$", text, re.MULTILINE):
        raise CharbenchError(f"{manifest} has an entry {name!r} already")
    fields = {"name": name, "cls": class_name(name), "title": name.replace("-", " ").title()}
    module.write_text(CONVERTER.format(**fields), encoding="utf-8")
    test.write_text(TEST.format(**fields), encoding="utf-8")
    manifest.write_text(text.rstrip("\n") + "\n" + MANIFEST_ENTRY.format(**fields), encoding="utf-8")
    return [module, test, manifest]
