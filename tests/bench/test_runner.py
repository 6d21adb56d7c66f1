"""The runner end to end through the CLI on a tiny synthetic dataset: files, schema, metrics, comparison."""

import argparse
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from synthetic_shards import write_dataset

from charbench.bench import report as report_module
from charbench.bench.compare import compare_runs
from charbench.bench.distributed import DistContext
from charbench.bench.job import JobOptions, run_job
from charbench.bench.plan import expand
from charbench.bench.report import load_report
from charbench.bench.suites import SUITES, Recipe, Suite, register_suite
from charbench.cli import report as report_cli
from charbench.cli import run as run_cli
from charbench.cli import suites as suites_cli
from charbench.errors import OptionError, ReportFormatError
from charbench.progress import _Silent

SUITE = "test-tiny"
if SUITE not in SUITES:
    register_suite(
        Suite(
            SUITE,
            "tiny test suite",
            datasets=("mnist", "kmnist"),
            models=("simple_cnn",),
            recipe=Recipe(epochs=2, batch_size=32),
            throughput_steps=4,
        )
    )


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for module in (run_cli, suites_cli, report_cli):
        module.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner")
    write_dataset(root / "prepared", "mnist", counts={"train": 256, "val": 64, "test": 96}, num_classes=5,
                  converter="mnist")
    rc = _cli(
        [
            "run",
            "--suite",
            SUITE,
            "--data",
            str(root / "prepared"),
            "--out",
            str(root / "runs"),
            "--device",
            "cpu",
            "--quiet",
            "--threads",
            "1",
        ]
    )
    assert rc == 0
    (run,) = (root / "runs").iterdir()
    return run


def test_run_folder_files(run_dir):
    assert re.fullmatch(r"\d{8}-\d{6}-test-tiny", run_dir.name)
    for name in ("report.json", "results.csv", "report.md", "confusion/mnist__simple_cnn__s0.npy"):
        assert (run_dir / name).is_file(), name
    pngs = sorted(p.name for p in (run_dir / "plots").iterdir())
    assert pngs == ["mnist__simple_cnn__s0_confusion.png", "mnist__simple_cnn__s0_curves.png", "throughput.png"]
    assert all((run_dir / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_report_json_contents(run_dir):
    rep = load_report(run_dir)
    assert rep["schema_version"] == 1 and rep["suite"]["name"] == SUITE
    assert {"torch", "charbench", "cuda", "driver", "device_name", "cpu", "torch_threads"} <= set(rep["environment"])
    assert [s["dataset"] for s in rep["skipped"]] == ["kmnist"] and "charbench prepare kmnist" in rep["skipped"][0][
        "command"
    ]
    (res,) = rep["results"]
    cm = np.load(run_dir / res["confusion_file"])
    test = res["test"]
    assert cm.shape == (5, 5) and cm.sum() == test["count"] == 96
    assert test["top1"] == pytest.approx(np.trace(cm) / cm.sum())
    assert test["top1"] > 0.9  # the synthetic classes are easy: training must have worked
    assert test["top5"] >= test["top1"] and len(test["per_class_accuracy"]) == 5
    assert [h["epoch"] for h in res["history"]] == [1, 2] and res["history"][0]["eval_split"] == "val"
    assert res["target"]["value"] == 99.06 and "1812.01718" in res["target"]["source"]
    assert res["target"]["met"] is (test["top1"] * 100 >= 99.06)
    assert res["target"]["protocol_difference"] is None  # both official splits
    thr = res["throughput"]
    assert thr["train_images_per_s"] > 0 and thr["loader_images_per_s"] > thr["train_images_per_s"]
    # the loader keeps a host-resident split: real batches cost about what random tensors do
    assert thr["pipeline_steps"] == 4 and 0.2 < thr["pipeline_efficiency"] < 5
    assert res["resources"]["gpu_util_mean"] is None and "no GPU" in res["resources"]["gpu_unavailable_reason"]
    assert res["resources"]["process_cpu_percent_mean"] is not None and res["resources"]["host_mem_peak_mib"] > 0
    assert set(res["data"]["split_hashes"]) == {"train", "val", "test"} and len(res["data"]["dataset_hash"]) == 64


def test_results_csv_columns_match_documentation(run_dir):
    doc = report_module.__doc__.split("with these columns (accuracies as fractions 0-1):")[1]
    documented = [c.strip() for c in doc.split("\n\n")[1].replace("\n", " ").split(",")]
    frame = pd.read_csv(run_dir / "results.csv")
    assert list(frame.columns) == documented
    assert len(frame) == 1 and frame.loc[0, "status"] == "ok" and frame.loc[0, "test_count"] == 96


def test_report_markdown(run_dir):
    text = (run_dir / "report.md").read_text()
    assert "| mnist | simple_cnn | 0 |" in text and "charbench prepare kmnist" in text
    assert "plots/mnist__simple_cnn__s0_curves.png" in text


def test_compare_flags_different_data(run_dir, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    rep = json.loads((other / "report.json").read_text())
    rep["run_id"] = "other"
    table, warnings = compare_runs([run_dir, other / "report.json"])
    assert not warnings and list(table["same_data"]) == ["yes"]
    rep["results"][0]["data"]["split_hashes"]["test"] = "0" * 64
    (other / "report.json").write_text(json.dumps(rep))
    table, warnings = compare_runs([run_dir, other])
    assert len(table) == 1 and list(table["same_data"]) == ["NO"] and "mnist/simple_cnn" in warnings[0]
    assert f"top1[{run_dir.name}]" in table.columns and "top1[other]" in table.columns
    assert _cli(["report", str(run_dir), str(other)]) == 0
    assert "different data" in capsys.readouterr().err


def test_load_report_errors(tmp_path):
    with pytest.raises(ReportFormatError, match="no report.json"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ReportFormatError, match="schema_version 99"):
        load_report(tmp_path)


def test_suites_command(capsys):
    assert _cli(["suites"]) == 0
    assert "quick" in capsys.readouterr().err


def test_job_is_deterministic_and_time_limited(make_dataset):
    folder = make_dataset("mnist", counts={"train": 128, "test": 64}, num_classes=4)
    suite = Suite("det", "d", datasets=("mnist",), models=("simple_cnn",), recipe=Recipe(epochs=2, batch_size=32))
    (job,) = expand(suite, folder.parent)[0]
    opts = JobOptions(device=torch.device("cpu"), throughput_steps=2)
    ctx = DistContext()
    a, b = (run_job(job, opts, ctx, _Silent()) for _ in range(2))
    assert np.array_equal(a["_confusion"], b["_confusion"])
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    assert a["test_split"] == "test" and a["history"][0]["eval_split"] == "test"  # no val: test only for curves
    limited = run_job(
        job, JobOptions(device=torch.device("cpu"), throughput_steps=2, max_train_seconds=0.0), ctx, _Silent()
    )
    assert limited["epochs_run"] == 1 and "time limit" in limited["stopped_early"]


def test_bench_cli_modules_do_not_import_torch():
    code = (
        "import sys, charbench.cli.run, charbench.cli.suites, charbench.cli.report, charbench.bench.suites; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_filters_matching_no_dataset_are_an_error(tmp_path):
    write_dataset(tmp_path / "prepared", "mnist", counts={"train": 32, "val": 8, "test": 8}, num_classes=2)
    with pytest.raises(OptionError, match=r"--datasets 'nomatch'.*no job to run.*prepared under .*: mnist"):
        _cli(["run", "--suite", SUITE, "--data", str(tmp_path / "prepared"), "--out", str(tmp_path / "runs"),
              "--device", "cpu", "--quiet", "--datasets", "nomatch"])
    assert not (tmp_path / "runs").exists()


def test_convolutional_models_train_channels_last_on_cpu():
    from charbench.bench.train import on_device
    from charbench.models import create_model

    conv = on_device(create_model("simple_cnn", 10, 28), torch.device("cpu"))
    weight = next(p for p in conv.parameters() if p.dim() == 4 and p.shape[1] > 1)
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    mlp = on_device(create_model("mlp", 10, 28), torch.device("cpu"))
    assert all(p.is_contiguous() for p in mlp.parameters())
    x = torch.rand(4, 1, 28, 28)
    reference = create_model("simple_cnn", 10, 28)
    reference.load_state_dict(conv.state_dict())
    conv.eval(), reference.eval()
    assert torch.allclose(conv(x), reference(x), atol=1e-5)
