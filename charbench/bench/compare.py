"""Side-by-side comparison of several runs, flagging those trained or tested on different data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from charbench.bench.report import load_report, report_rows

COLUMNS = ("top1", "balanced_accuracy", "train_images_per_s", "pipeline_efficiency")


def compare_runs(paths: list[str | Path], columns: tuple[str, ...] = COLUMNS) -> tuple[pd.DataFrame, list[str]]:
    """One row per (dataset, model), one column per run and measure (mean over seeds), plus a data check.

    Returns:
        The table, and one warning per (dataset, model) whose train or test content hash differs between runs
        (so their accuracies are not comparable).
    """
    frames = []
    for path in paths:
        rows = [r for r in report_rows(load_report(path)) if r["status"] == "ok"]
        frames.append(pd.DataFrame(rows))
    if not any(len(f) for f in frames):
        return pd.DataFrame(), []
    data = pd.concat([f for f in frames if len(f)], ignore_index=True)
    table = data.pivot_table(index=["dataset", "model"], columns="run_id", values=list(columns), aggfunc="mean")
    runs = list(dict.fromkeys(data["run_id"]))
    order = [(m, r) for m in columns for r in runs if (m, r) in table.columns]
    table = table[order]
    table.columns = [f"{measure}[{run}]" for measure, run in order]
    hashes = data.groupby(["dataset", "model"])[["train_hash", "test_hash"]].nunique()
    differs = (hashes > 1).any(axis=1)
    table["same_data"] = ["yes" if not differs.get(idx, False) else "NO" for idx in table.index]
    warnings = [
        f"{d}/{m}: runs trained or tested on different data (content hashes differ)"
        for (d, m), bad in differs.items()
        if bad
    ]
    return table.reset_index(), warnings
