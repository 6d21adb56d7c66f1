"""``charbench new NAME``: the three files of a new dataset, valid as written, and refusals."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from charbench.cli.main import main
from charbench.manifest import load_manifest
from charbench.registry import Registry

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "charbench" / "datasets").mkdir(parents=True)
    (tmp_path / "tests" / "datasets").mkdir(parents=True)
    shutil.copy(REPO / "data_manifest.yaml", tmp_path / "data_manifest.yaml")
    return tmp_path


def test_new_writes_a_converter_its_test_and_a_manifest_entry(checkout, capsys, monkeypatch):
    assert main(["new", "telugu-chars", "--root", str(checkout)]) == 0
    module = checkout / "charbench" / "datasets" / "telugu_chars.py"
    test = checkout / "tests" / "datasets" / "test_telugu_chars.py"
    assert f"wrote {module}" in capsys.readouterr().out
    compile(test.read_text(), str(test), "exec")
    entry = load_manifest(checkout / "data_manifest.yaml")["telugu-chars"]  # the catalogue still validates
    assert entry.raw_name == "telugu-chars" and "TODO(telugu-chars)" in entry.license
    from charbench.datasets import base

    monkeypatch.setattr(base, "DATASETS", Registry("dataset"))  # register the skeleton apart from the real ones
    spec = importlib.util.spec_from_file_location("telugu_chars", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    cls = base.DATASETS.get("telugu-chars")
    assert cls is loaded.TeluguChars and cls.VERSION == "1.0.0"
    with pytest.raises(NotImplementedError, match=r"TODO\(telugu-chars\)"):
        cls(checkout).scan()


def test_new_refuses_bad_taken_and_existing_names(checkout, capsys):
    assert main(["new", "Bad_Name", "--root", str(checkout)]) == 1
    assert "lower-case words" in capsys.readouterr().err
    assert main(["new", "mnist", "--root", str(checkout)]) == 1
    assert "registered already" in capsys.readouterr().err
    assert main(["new", "telugu-chars", "--root", str(checkout)]) == 0
    assert main(["new", "telugu-chars", "--root", str(checkout)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["new", "other", "--root", str(checkout / "tests")]) == 1
    assert "no data_manifest.yaml" in capsys.readouterr().err
