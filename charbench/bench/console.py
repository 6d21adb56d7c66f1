"""Terminal output of the bench commands: suite list, run summary, run comparison (rich)."""

from __future__ import annotations

from rich.table import Table

from charbench.progress import console


def print_suites(suites: list) -> None:
    """A table of registered suites: name, description, datasets, models, seeds."""
    table = Table(title="charbench suites")
    for col in ("suite", "description", "datasets", "models", "seeds"):
        table.add_column(col)
    for s in suites:
        models = ", ".join(s.models) if s.models is not None else "reference models per dataset"
        table.add_row(s.name, s.description, ", ".join(s.datasets), models, ",".join(map(str, s.seeds)))
    console.print(table)


def print_outcome(outcome) -> None:
    """One line per job (test accuracy, target, throughput) and where the report went."""
    table = Table(title="results")
    for col in (
        "dataset",
        "model",
        "seed",
        "test top-1 %",
        "bal. acc %",
        "target %",
        "met",
        "train img/s",
        "pipeline eff.",
    ):
        table.add_column(col)
    for r in outcome.results:
        if r["status"] != "ok":
            table.add_row(r["dataset"], r["model"], str(r["seed"]), f"failed: {r['error']}", "", "", "", "", "")
            continue
        t = r.get("target") or {}
        eff = r["throughput"]["pipeline_efficiency"]
        table.add_row(
            r["dataset"],
            r["model"],
            str(r["seed"]),
            f"{100 * r['test']['top1']:.2f}",
            f"{100 * r['test']['balanced_accuracy']:.2f}",
            f"{t['value']:.2f}" if t else "–",
            {True: "yes", False: "no"}.get(t.get("met"), "–"),
            f"{r['throughput']['train_images_per_s']:,.0f}",
            f"{eff:.3f}" if eff is not None else "–",
        )
    if outcome.results:
        console.print(table)
    if outcome.run_dir is not None:
        console.print(f"report: {outcome.run_dir}/report.md")


def print_comparison(table, warnings: list[str]) -> None:
    """The comparison DataFrame as text, then one warning per pair trained on different data."""
    if table.empty:
        console.print("no successful jobs in these runs")
    else:
        console.print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}"), soft_wrap=True)
    for w in warnings:
        console.print(f"[red]warning[/] {w}")
