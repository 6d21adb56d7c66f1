"""``charbench demo``: the whole product on synthetic data, in one command and a few minutes on 2 CPU cores.

It writes synthetic raw data in every supported raw format (charbench.synth), prepares each with the real
``prepare`` path (class balancing on the Kuzushiji-layout pages), runs the ``quick`` suite on the prepared
shards and writes its report. Nothing is downloaded.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from charbench.prepare import PrepareConfig, prepare
from charbench.progress import console


@dataclass(frozen=True)
class DemoDataset:
    """One synthetic raw source and how to prepare it."""

    name: str  # output dataset name ("demo-" keeps synthetic results apart from published targets)
    converter: str
    write: str  # function in charbench.synth.demo_sources
    prepare: dict = field(default_factory=dict)


DEMO = (
    DemoDataset("demo-mnist", "mnist", "idx"),
    DemoDataset("demo-hpl-tamil", "hpl-tamil", "tiff", {"size": 32}),
    DemoDataset("demo-unipen-digits", "unipen", "unipen", {"size": 32}),
    DemoDataset("demo-kuzushiji", "kuzushiji", "pages", {"size": 32, "balance": 60, "min_count": 3}),
    DemoDataset("demo-omniglot", "omniglot", "omniglot", {"size": 32, "options": {"label": "character"}}),
)

NEXT_STEPS = (
    "charbench fetch mnist && charbench prepare mnist && charbench run --suite quick --datasets mnist",
    "charbench prepare kuzushiji --source <kaggle kuzushiji-recognition folder> --balance 500",
    "charbench prepare omniglot --source <omniglot/python folder with the zips> --label character --set all",
)


def run_demo(out: Path, *, small: bool = False, epochs: int | None = None, workers: int | None = None,
             progress: bool = True) -> dict:
    """Generate, prepare and benchmark every demo dataset under ``out``; returns a summary dict."""
    from charbench.bench.runner import RunConfig, run_suite
    from charbench.synth.demo_sources import write_source

    out = Path(out)
    raw, prepared, runs = out / "raw", out / "prepared", out / "runs"
    for folder in (raw, prepared):
        shutil.rmtree(folder, ignore_errors=True)
    datasets = {}
    for spec in DEMO:
        if progress:
            console.rule(f"[bold]{spec.name}[/]: synthetic {spec.write} files -> shards")
        source = write_source(spec.write, raw / spec.name, small=small)
        options = dict(spec.prepare)
        datasets[spec.name] = prepare(PrepareConfig(
            name=spec.converter, source=source, out=prepared, output_name=spec.name, workers=workers,
            progress=progress, options=options.pop("options", {}), **options))
    if progress:
        console.rule("[bold]quick suite[/]: simple_cnn on every prepared dataset")
    outcome = run_suite(RunConfig(suite="quick", data_root=prepared, out_root=runs,
                                  epochs=epochs or (6 if small else 8), progress=progress))
    summary = {"prepared": {k: str(v) for k, v in datasets.items()}, "run_dir": str(outcome.run_dir),
               "results": [_row(r) for r in outcome.results]}
    if progress:
        _print_summary(summary)
    return summary


def _row(result: dict) -> dict:
    test = result["test"]
    return {"dataset": result["dataset"], "model": result["model"], "num_classes": result["data"]["num_classes"],
            "top1": test["top1"], "chance": 1.0 / result["data"]["num_classes"],
            "train_images_per_s": result["throughput"]["train_images_per_s"]}


def _print_summary(summary: dict) -> None:
    from rich.table import Table

    table = Table(title="demo results (held-out test split)")
    for col in ("dataset", "model", "classes", "top-1", "chance", "train img/s"):
        table.add_column(col, justify="right" if col not in ("dataset", "model") else "left")
    for r in summary["results"]:
        table.add_row(r["dataset"], r["model"], str(r["num_classes"]), f"{r['top1']:.1%}", f"{r['chance']:.1%}",
                      f"{r['train_images_per_s']:,.0f}")
    console.print(table)
    run_dir = Path(summary["run_dir"])
    console.print(f"report: {run_dir / 'report.md'} (also report.json, results.csv); plots: {run_dir / 'plots'}")
    console.print("next, on real data:")
    for cmd in NEXT_STEPS:
        console.print(f"  {cmd}", markup=False)
