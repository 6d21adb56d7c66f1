"""report.md: the run as a human-readable page (results table, targets, throughput, skipped datasets, plots)."""

from __future__ import annotations

import numpy as np


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _num(value, fmt: str = ",.0f") -> str:
    return "–" if value is None else format(value, fmt)


def _results_table(rows: list[dict]) -> list[str]:
    lines = [
        (
            "| dataset | model | seed | top-1 % | top-5 % | bal. acc % | macro-F1 % | target % | met | time to target s "
            "| train img/s | eval img/s | loader img/s | pipeline eff. | GPU util % (mean/p95) | CPU % (process / system) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['dataset']} | {r['model']} | {r['seed']} | failed: {r.get('error')} |" + " |" * 12)
            continue
        target = "–" if r.get("target_pct") is None else f"{r['target_pct']:.2f} ({r['target_metric']})"
        met = {True: "yes", False: "no"}.get(r.get("target_met"), "–")
        gpu = "–" if r.get("gpu_util_mean") is None else f"{r['gpu_util_mean']:.0f}/{r['gpu_util_p95']:.0f}"
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['seed']} | {_pct(r['top1'])} | {_pct(r['top5'])} "
            f"| {_pct(r['balanced_accuracy'])} | {_pct(r['macro_f1'])} | {target} | {met} "
            f"| {_num(r.get('time_to_target_s'), '.1f')} | {_num(r['train_images_per_s'])} "
            f"| {_num(r['eval_images_per_s'])} | {_num(r['loader_images_per_s'])} "
            f"| {_num(r['pipeline_efficiency'], '.3f')} | {gpu} | {_num(r['process_cpu_percent_mean'], '.0f')} / "
            f"{_num(r['system_cpu_percent_mean'], '.0f')} |"
        )
    return lines


def _job_details(result: dict, plots: list[str]) -> list[str]:
    test = result["test"]
    lines = [f"### {result['key']}", ""]
    if result.get("stopped_early"):
        lines += [f"Stopped early: {result['stopped_early']}.", ""]
    data = result["data"]
    lines += [
        (
            f"Test split `{result['test_split']}` ({test['count']} images), best epoch {result['best_epoch']} of "
            f"{result['epochs_run']}; loader mode `{data['loader_mode']}`; "
            f"{result['model_info']['num_params']:,} parameters."
        ),
        "",
    ]
    if result.get("target"):
        t = result["target"]
        kind = "Notebook figure" if t.get("kind") == "notebook" else "Target"
        lines += [f"{kind} {t['value']:.2f} % {t['metric']} — source: {t['source']}. Protocol: {t['protocol']}.", ""]
        if t.get("protocol_difference"):
            lines += [f"Not directly comparable: {t['protocol_difference']}.", ""]
    res = result["resources"]
    if res.get("gpu_unavailable_reason"):
        lines += [f"GPU utilisation: not measured ({res['gpu_unavailable_reason']}).", ""]
    if test["most_confused"]:
        lines += ["| true | predicted | count | share of true class |", "|---|---|---|---|"]
        lines += [
            f"| {p['true']} | {p['predicted']} | {p['count']} | {100 * p['fraction_of_true']:.1f} % |"
            for p in test["most_confused"][:5]
        ]
        lines.append("")
    lines += [f"![{name}](plots/{name})" for name in plots] + [""]
    return lines


def _header(report: dict) -> list[str]:
    env, suite = report["environment"], report["suite"]
    return [
        f"# charbench run {report['run_id']}",
        "",
        (
            f"Suite **{suite['name']}**: {suite['description']}. Started {report['started_utc']}, "
            f"finished {report['finished_utc']}."
        ),
        "",
        (
            f"Environment: charbench {env['charbench']}, torch {env['torch']}, CUDA {env['cuda'] or '–'}, "
            f"driver {env['driver'] or '–'}, device {env['device']} ({env['device_name']}), CPU {env['cpu']} "
            f"x {env['cpu_count']}, {env['torch_threads']} torch threads, world size {env['world_size']}."
        ),
        "",
    ]


def _experiments(report: dict) -> list[str]:
    """The notebooks suite's table: each notebook's figure beside charbench's under its protocol and leakage-free."""
    experiments = report["suite"].get("experiments") or []
    if not experiments:
        return []
    top1: dict[tuple[str, str], list[float]] = {}
    for r in report["results"]:
        if r["status"] == "ok" and r.get("experiment"):
            for protocol in r["protocol"].split(" = "):
                top1.setdefault((r["experiment"], protocol), []).append(100 * r["test"]["top1"])
    lines = ["## Notebook experiments", "",
             ("Each experiment re-run with the notebook's own data protocol, and with charbench's leakage-free one "
             "(group split by writer, drawer or page; balancing after the split). Mean top-1 % over seeds."), "",
             ("| experiment | model | notebook's figure | charbench, notebook protocol | charbench, leakage-free | "
             "leakage (notebook - leakage-free) |"), "|---|---|---|---|---|---|"]
    for e in experiments:
        nb, free = top1.get((e["name"], "notebook")), top1.get((e["name"], "leakage-free"))
        gap = _num(np.mean(nb) - np.mean(free), ".2f") if nb and free else "–"
        figure = "not recovered" if e["figure"] is None else f"{e['figure']:.2f}"
        lines.append(f"| {e['name']} | {e['model']} | {figure} | {_mean(nb)} | {_mean(free)} | {gap} |")
    lines += [""] + [f"- **{e['name']}**: {e['source']}." + (f" {e['note']}." if e["note"] else "")
                     for e in experiments] + [""]
    return lines


def _mean(values: list[float] | None) -> str:
    return "not run" if not values else f"{np.mean(values):.2f}"


def _data_table(rows: list[dict]) -> list[str]:
    lines = ["## Data", "", "| dataset | model | seed | dataset sha256 | train sha256 | test sha256 |"]
    lines.append("|---|---|---|---|---|---|")
    lines += [
        f"| {r['dataset']} | {r['model']} | {r['seed']} | `{r.get('dataset_hash', '')}` | "
        f"`{r.get('train_hash', '')}` | `{r.get('test_hash', '')}` |"
        for r in rows
        if r["status"] == "ok"
    ]
    return lines


def render(report: dict, rows: list[dict], plots: dict[str, list[str]]) -> str:
    """The whole report.md text."""
    lines = [*_header(report), "## Results", "", *_results_table(rows), ""]
    lines += [
        (
            "Accuracies are on each job's test split; targets are published results (sources below). Pipeline "
            "efficiency = train images/s with the real loader / train images/s on device-resident random tensors. "
            "CPU %: process = this process's use, 100 per busy core; system = share of all cores busy, other "
            "processes included. System near 100 while the process uses fewer cores than the host has means the "
            "host was shared and the timings are lower than on an idle machine."
        ),
        "",
    ]
    lines += _experiments(report)
    if report["skipped"]:
        lines += ["## Skipped", ""]
        lines += [f"- **{s['dataset']}**: {s['reason']}. Prepare it with `{s['command']}`" for s in report["skipped"]]
        lines.append("")
    lines += ["## Jobs", ""]
    for result in report["results"]:
        if result["status"] == "ok":
            lines += _job_details(result, plots.get(result["key"], []))
    if "_run" in plots:
        lines += ["## Throughput", "", *[f"![{n}](plots/{n})" for n in plots["_run"]], ""]
    return "\n".join(lines + _data_table(rows)) + "\n"
