"""``charbench verify PATH``: re-check every hash, the schema and the counts; non-zero exit on any problem."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("verify", help="recompute every sha256 and check schema and counts")
    p.add_argument("path", type=Path, nargs="+", help="prepared dataset folder(s) holding index.json")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from charbench.progress import console
    from charbench.shards.verify import check_dataset

    failed = 0
    for path in args.path:
        result = check_dataset(path)
        if result.problems:
            failed += 1
            console.print(f"[red]FAILED[/] {path}: {len(result.problems)} problem(s)")
            for problem in result.problems:
                console.print(f"  - {problem}", markup=False)
        else:
            console.print(f"[green]OK[/] {path}")
        for split, ink in result.ink.items():
            console.print(f"  {split}: {ink['images']:,} images, ink {ink['ink_fraction']:.1%} of pixels, "
                          f"background white in {ink['white_background_share']:.1%}", markup=False)
        for warning in result.warnings:
            console.print(f"  [yellow]warning[/] {warning}")
    return 1 if failed else 0
