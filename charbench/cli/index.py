"""``charbench index DIR``: assemble index.json once every array-job slice of a prepare has finished."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("index", help="assemble index.json from finished prepare --num-shards slices")
    p.add_argument("path", type=Path, help="the dataset folder the slices wrote into")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from charbench.progress import console
    from charbench.shards import ledger
    from charbench.shards.index import write_index
    from charbench.shards.verify import verify_dataset

    index = ledger.assemble(args.path)
    write_index(args.path, index)
    ledger.clear(args.path)
    problems = verify_dataset(args.path)
    for problem in problems:
        console.print(f"  - {problem}", markup=False)
    if problems:
        return 1
    counts = ", ".join(f"{n} {e['count']:,}" for n, e in index["splits"].items())
    console.print(f"[green]assembled[/] {args.path}: {counts}; every hash verifies")
    return 0
