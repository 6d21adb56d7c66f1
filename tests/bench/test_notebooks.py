"""The notebooks suite: definitions, matching prepared datasets to each protocol, skipping, and the report."""

from __future__ import annotations

import numpy as np
import pytest

from charbench.bench.plan import expand
from charbench.bench.report import load_report
from charbench.bench.runner import RunConfig, run_suite
from charbench.bench.suites import SUITES, DatasetSpec, Experiment, Recipe, Suite
from charbench.datasets import resolve
from charbench.models import MODELS
from charbench.prepare import PrepareConfig, prepare
from charbench.synth.idx import write_mnist_layout
from charbench.synth.pages import write_kaggle_pages
from tests.checks import check_converter

NOTEBOOKS = SUITES.get("notebooks")


def test_five_experiments_with_registered_models_and_converters():
    assert [e.name for e in NOTEBOOKS.experiments] == [
        "omniglot-alphabets", "mnist-mlp", "emnist-digits-mlp", "hpl-tamil-resnet34", "kuzushiji-cnn-500"]
    for e in NOTEBOOKS.experiments:
        MODELS.get(e.model)
        for spec in (e.notebook, e.leakage_free):
            resolve(spec.converter)
            assert spec.prepare.startswith(f"charbench prepare {spec.converter} ")
        assert e.source and (e.figure is None or 0 < e.figure <= 100)
    by_name = {e.name: e for e in NOTEBOOKS.experiments}
    assert by_name["omniglot-alphabets"].figure == 69.5 and by_name["kuzushiji-cnn-500"].figure == 98.3
    assert by_name["mnist-mlp"].recipe.inputs == "half" and not by_name["mnist-mlp"].recipe.nesterov


def test_every_protocol_is_skipped_with_its_prepare_command_when_nothing_is_prepared(tmp_path):
    jobs, skipped = expand(NOTEBOOKS, tmp_path / "empty")
    assert jobs == []
    names = [s.dataset for s in skipped]
    assert "omniglot-alphabets (notebook)" in names and "omniglot-alphabets (leakage-free)" in names
    assert "mnist-mlp (notebook = leakage-free)" in names and len(names) == 8
    omniglot = next(s for s in skipped if s.dataset == "omniglot-alphabets (leakage-free)")
    assert "--split group --group-by drawer" in omniglot.command and str(tmp_path / "empty") in omniglot.command


def test_specs_match_datasets_by_what_their_index_says(tmp_path):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=6, test_per_class=2)
    out = tmp_path / "prepared"
    prepare(PrepareConfig(name="mnist", source=raw, out=out, output_name="carved", progress=False, workers=1))
    prepare(PrepareConfig(name="mnist", source=raw, out=out, output_name="all-train", val_fraction=0.0,
                          progress=False, workers=1))
    jobs, skipped = expand(NOTEBOOKS, out, datasets="mnist-mlp")
    assert [(j.dataset, j.protocol, j.experiment) for j in jobs] == [("all-train", "notebook = leakage-free",
                                                                     "mnist-mlp")]
    assert jobs[0].target.value == 97.2 and jobs[0].target.kind == "notebook" and not skipped
    assert jobs[0].key == "mnist-mlp-notebook-leakage-free__all-train__mlp__s0"


def test_the_leaky_balance_reproduces_the_notebook_protocol_and_says_so(tmp_path):
    pages = write_kaggle_pages(tmp_path / "raw", num_classes=8, num_pages=6, num_books=2, zipf=1.0)
    readers = check_converter("kuzushiji", pages.root, tmp_path / "out", balance=20, balance_scope="all",
                              fractions=(0.7, 0.0, 0.3))
    index = readers["train"].index
    assert index["balance"]["scope"] == "all" and "several splits" in index["balance"]["leaks"]
    train = set(readers["train"].source_ids.tolist())
    test = set(readers["test"].source_ids.tolist())
    assert train & test  # copies of one original on both sides: the leak the notebook had
    assert readers["train"].index["split"]["method"] == "random"
    spec = next(e for e in NOTEBOOKS.experiments if e.name == "kuzushiji-cnn-500").notebook
    assert not spec.matches(index)  # 32x32 and 500 per class are what that experiment needs
    assert DatasetSpec("kuzushiji", (("balance.scope", "all"), ("split.fractions", [0.7, 0.0, 0.3])), "x").matches(index)
    with pytest.raises(Exception, match="--split random"):
        check_converter("kuzushiji", pages.root, tmp_path / "g", balance=20, balance_scope="all", split="group")


def test_a_notebooks_run_reports_the_figure_beside_both_protocols(make_dataset, tmp_path):
    make_dataset("nb-random", num_classes=4, converter="mnist")
    suite = Suite("test-notebooks", "t", experiments=(Experiment(
        name="tiny", description="tiny", model="simple_cnn", recipe=Recipe(epochs=1, batch_size=32),
        notebook=DatasetSpec("mnist", (("split.method", "official"),), "charbench prepare mnist ..."),
        leakage_free=DatasetSpec("mnist", (("split.method", "group"),), "charbench prepare mnist --split group"),
        figure=90.0, source="a notebook", note="a note"),))
    SUITES.add(suite.name, suite)
    outcome = run_suite(RunConfig(suite=suite.name, data_root=tmp_path / "prepared", out_root=tmp_path / "runs",
                                  device="cpu", progress=False, plots=False, throughput=False))
    (result,) = outcome.results
    assert result["experiment"] == "tiny" and result["protocol"] == "notebook"
    assert result["target"]["kind"] == "notebook" and result["target"]["met"] is (result["test"]["top1"] >= 0.9)
    assert result["throughput"]["pipeline_efficiency"] is None and result["throughput"]["throughput_skipped"]
    report = load_report(outcome.run_dir)
    assert report["skipped"][0]["dataset"] == "tiny (leakage-free)"
    md = (outcome.run_dir / "report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| tiny |"))
    assert f"{100 * result['test']['top1']:.2f}" in row and "| 90.00 |" in row and row.endswith("| not run | – |")
    assert "- **tiny**: a notebook. a note." in md


def test_the_throughput_probe_keeps_to_its_time_budget(make_dataset, tmp_path):
    import torch

    from charbench.bench.suites import Recipe as R
    from charbench.bench.throughput import pipeline_efficiency
    from charbench.bench.train import Amp
    from charbench.data import DeviceLoader
    from charbench.models import create_model
    from charbench.shards.reader import open_dataset

    reader = open_dataset(make_dataset(counts={"train": 512}, image_size=16), "train")
    loader = DeviceLoader(reader, 64, shuffle=True, drop_last=True)
    model = create_model("simple_cnn", 4, 16)
    quick = pipeline_efficiency(model, loader, R(), 4, Amp(torch.device("cpu"), False), steps=400, max_seconds=0.0)
    assert quick["pipeline_steps"] == 1  # one block a side, then the budget stops it
    full = pipeline_efficiency(model, loader, R(), 4, Amp(torch.device("cpu"), False), steps=6)
    assert full["pipeline_steps"] == 6 and np.isfinite(full["pipeline_efficiency"])
