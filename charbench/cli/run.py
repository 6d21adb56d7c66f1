"""``charbench run --suite NAME``: train and evaluate a suite, write runs/<timestamp>-<suite>/."""

from __future__ import annotations

import argparse
from pathlib import Path


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes comma-separated integers, got {text!r}") from None


def register(sub) -> None:
    """Add the ``run`` subcommand to ``sub``."""
    p = sub.add_parser(
        "run",
        help="train and evaluate a benchmark suite",
        description="Train a suite's models on prepared datasets and write a report "
        "(works under torchrun --nproc_per_node N).",
    )
    p.add_argument("--suite", required=True, help="suite name (see `charbench suites`)")
    p.add_argument("--data", type=Path, help="folder holding prepared datasets (default: <data root>/prepared)")
    p.add_argument("--out", type=Path, default=Path("runs"), help="folder receiving <timestamp>-<suite>/")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--epochs", type=int, help="override every recipe's epoch count")
    p.add_argument("--amp", action="store_true", help="mixed precision (bfloat16 autocast, float16 where needed)")
    p.add_argument("--seeds", type=_seeds, help="comma-separated seeds replacing the suite's, e.g. 0,1,2")
    p.add_argument("--datasets", help="fnmatch pattern restricting dataset names")
    p.add_argument("--models", help="fnmatch pattern restricting model names")
    p.add_argument("--max-train-seconds", type=float, help="stop each job's training after this many seconds")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--memory-budget-mb", type=float, help="largest resident split copy; bigger splits stream")
    p.add_argument("--no-throughput", dest="throughput", action="store_false",
                   help="skip the loader / pipeline-efficiency probe after each job's training")
    p.add_argument("--throughput-seconds", type=float, default=20.0,
                   help="time limit of that probe per job (default 20 s; also at most --max-train-seconds)")
    p.add_argument("--quiet", action="store_true", help="no live progress output")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from charbench.bench.console import print_outcome
    from charbench.bench.runner import RunConfig, run_suite

    budget = int(args.memory_budget_mb * 2**20) if args.memory_budget_mb else None
    config = RunConfig(
        suite=args.suite,
        data_root=args.data,
        out_root=args.out,
        device=args.device,
        epochs=args.epochs,
        amp=args.amp,
        seeds=args.seeds,
        datasets=args.datasets,
        models=args.models,
        max_train_seconds=args.max_train_seconds,
        threads=args.threads,
        memory_budget=budget,
        progress=not args.quiet,
        plots=args.plots,
        throughput=args.throughput,
        throughput_seconds=args.throughput_seconds,
    )
    outcome = run_suite(config)
    print_outcome(outcome)
    return 1 if any(r["status"] != "ok" for r in outcome.results) else 0
