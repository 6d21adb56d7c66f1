"""``charbench report RUN [RUN ...]``: several runs side by side, flagging runs on different data."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the ``report`` subcommand to ``sub``."""
    p = sub.add_parser(
        "report",
        help="compare benchmark runs side by side",
        description="Print a side-by-side table of runs (folders made by `charbench run`).",
    )
    p.add_argument("runs", nargs="+", type=Path, help="run folders (or their report.json)")
    p.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from charbench.bench.compare import compare_runs
    from charbench.bench.console import print_comparison

    table, warnings = compare_runs(args.runs)
    print_comparison(table, warnings)
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0
