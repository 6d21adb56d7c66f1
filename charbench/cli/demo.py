"""``charbench demo``: synthetic raw data in every format -> prepare -> quick suite -> report."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="the whole product on synthetic data (no download), a few minutes on a CPU")
    p.add_argument("--out", type=Path, default=Path("charbench-demo"), help="folder for raw, prepared and runs")
    p.add_argument("--small", action="store_true", help="fewer samples and epochs (a quick smoke test)")
    p.add_argument("--epochs", type=int, help="training epochs per dataset (default 8, 6 with --small)")
    p.add_argument("--workers", type=int, help="prepare worker processes (default: all cores)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from charbench.demo import run_demo

    run_demo(args.out, small=args.small, epochs=args.epochs, workers=args.workers, progress=not args.quiet)
    return 0
