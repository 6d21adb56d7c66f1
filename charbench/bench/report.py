"""The run folder ``runs/<timestamp>-<suite>/``: report.json, results.csv, report.md, plots/ and confusion/.

report.json (``schema_version`` 1) holds the suite, the options, the environment, and per job the full result:
test metrics (accuracies as fractions 0-1), per-epoch history, target (value in percent, as published),
throughput, resources (GPU / CPU / memory) and data hashes. Full confusion matrices are in
``confusion/<key>.npy`` (int64 [true, predicted]).

results.csv has one row per dataset x model x seed, with these columns (accuracies as fractions 0-1):

    suite, run_id, dataset, model, seed, experiment, protocol, status, error, device, world_size, test_split,
    test_count, top1, top5, balanced_accuracy, macro_f1, test_loss, best_epoch, epochs_run, epochs_planned,
    stopped_early, target_pct, target_metric, target_met, target_kind, target_protocol_difference, time_to_target_s,
    target_source,
    train_seconds, train_images_per_s, eval_images_per_s, loader_images_per_s, synthetic_train_images_per_s,
    pipeline_train_images_per_s, pipeline_efficiency, loader_mode,
    gpu_util_mean, gpu_util_p50, gpu_util_p95, gpu_mem_peak_mib, gpu_unavailable_reason,
    process_cpu_percent_mean, system_cpu_percent_mean, host_mem_peak_mib, num_params, dataset_hash, train_hash, test_hash
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from charbench.errors import ReportFormatError

if TYPE_CHECKING:  # plan imports the models, hence torch; reading reports must not
    from charbench.bench.plan import Skipped

SCHEMA_VERSION = 1

_THROUGHPUT = (
    "train_images_per_s",
    "eval_images_per_s",
    "loader_images_per_s",
    "synthetic_train_images_per_s",
    "pipeline_train_images_per_s",
    "pipeline_efficiency",
)
_RESOURCES = (
    "gpu_util_mean",
    "gpu_util_p50",
    "gpu_util_p95",
    "gpu_mem_peak_mib",
    "gpu_unavailable_reason",
    "process_cpu_percent_mean",
    "system_cpu_percent_mean",
    "host_mem_peak_mib",
)


def _accuracy_fields(result: dict) -> dict:
    test, target = result["test"], result.get("target") or {}
    return {
        "test_split": result["test_split"],
        "test_count": test["count"],
        "top1": test["top1"],
        "top5": test["top5"],
        "balanced_accuracy": test["balanced_accuracy"],
        "macro_f1": test["macro_f1"],
        "test_loss": test["loss"],
        "best_epoch": result["best_epoch"],
        "epochs_run": result["epochs_run"],
        "epochs_planned": result["epochs_planned"],
        "stopped_early": result["stopped_early"],
        "target_pct": target.get("value"),
        "target_metric": target.get("metric"),
        "target_met": target.get("met"),
        "target_kind": target.get("kind"),
        "target_protocol_difference": target.get("protocol_difference"),
        "time_to_target_s": target.get("time_to_target_s"),
        "target_source": target.get("source"),
        "train_seconds": result["train_seconds"],
    }


def row(result: dict, run_id: str, suite: str, env: dict) -> dict:
    """One results.csv row from one job result."""
    out = {
        "suite": suite,
        "run_id": run_id,
        "dataset": result["dataset"],
        "model": result["model"],
        "seed": result["seed"],
        "experiment": result.get("experiment"),
        "protocol": result.get("protocol"),
        "status": result["status"],
        "error": result.get("error"),
        "device": env.get("device"),
        "world_size": env.get("world_size"),
    }
    if result["status"] != "ok":
        return out
    data = result["data"]
    out.update(_accuracy_fields(result))
    out.update({k: result["throughput"].get(k) for k in _THROUGHPUT})
    out["loader_mode"] = data["loader_mode"]
    out.update({k: result["resources"].get(k) for k in _RESOURCES})
    out["num_params"] = result["model_info"]["num_params"]
    out["dataset_hash"] = data["dataset_hash"]
    out["train_hash"] = data["split_hashes"].get("train")
    out["test_hash"] = data["split_hashes"].get(result["test_split"])
    return out


def _run_dir(out_root: Path, suite: str, started: datetime) -> Path:
    base = f"{started.strftime('%Y%m%d-%H%M%S')}-{suite}"
    path, n = out_root / base, 1
    while path.exists():
        n += 1
        path = out_root / f"{base}-{n}"
    path.mkdir(parents=True)
    return path


def _clean(value):
    """JSON-safe: NaN / inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_run(
    out_root: Path,
    suite: str,
    started: datetime,
    meta: dict,
    results: list[dict],
    skipped: list[Skipped],
    plots: bool = True,
) -> Path:
    """Create the run folder and write every report file into it (PNG plots unless ``plots`` is False)."""
    run_dir = _run_dir(Path(out_root), suite, started)
    (run_dir / "confusion").mkdir()
    stored = []
    for res in results:
        res = dict(res)
        cm = res.pop("_confusion", None)
        if cm is not None:
            np.save(run_dir / "confusion" / f"{res['key']}.npy", cm)
            res["confusion_file"] = f"confusion/{res['key']}.npy"
        stored.append(res)
    report = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_dir.name,
        **meta,
        "results": stored,
        "skipped": [s.as_dict() for s in skipped],
    }
    (run_dir / "report.json").write_text(json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n", "utf-8")
    rows = [row(r, run_dir.name, suite, meta["environment"]) for r in stored]
    pd.DataFrame(rows).to_csv(run_dir / "results.csv", index=False)
    plots = _write_plots(run_dir, stored, rows) if plots else {}
    from charbench.bench.markdown import render

    (run_dir / "report.md").write_text(render(report, rows, plots), "utf-8")
    return run_dir


def _write_plots(run_dir: Path, results: list[dict], rows: list[dict]) -> dict[str, list[str]]:
    from charbench.bench import plots

    folder = run_dir / "plots"
    folder.mkdir()
    made: dict[str, list[str]] = {}
    for res in results:
        if res["status"] != "ok":
            continue
        key = res["key"]
        cm = np.load(run_dir / res["confusion_file"])
        names = list(res["test"]["per_class_accuracy"])
        made[key] = [
            plots.learning_curves(res, folder / f"{key}_curves.png").name,
            plots.confusion_heatmap(cm, names, folder / f"{key}_confusion.png", f"{key}: most-confused classes").name,
        ]
    if any(r["status"] == "ok" for r in rows):
        made["_run"] = [
            plots.throughput_bars(
                [{**r, "key": f"{r['dataset']}/{r['model']}/s{r['seed']}"} for r in rows], folder / "throughput.png"
            ).name
        ]
    return made


def load_report(path: str | Path) -> dict:
    """Read a run's report.json (``path`` is the run folder or the file itself) and check its schema version."""
    path = Path(path)
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise ReportFormatError(f"no report.json at {path}: expected a run folder made by `charbench run`")
    try:
        report = json.loads(file.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{file} is not valid JSON: {exc}") from None
    if report.get("schema_version") != SCHEMA_VERSION:
        raise ReportFormatError(
            f"{file} has report schema_version {report.get('schema_version')!r}; "
            f"this charbench reads version {SCHEMA_VERSION}"
        )
    return report


def report_rows(report: dict) -> list[dict]:
    """results.csv rows rebuilt from a loaded report."""
    return [row(r, report["run_id"], report["suite"]["name"], report["environment"]) for r in report["results"]]
