"""``charbench new NAME``: write the skeleton of a new dataset (converter, test, manifest entry)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("new", help="scaffold a new dataset: converter module, its test and a manifest entry",
                       description="Write charbench/datasets/<name>.py, tests/datasets/test_<name>.py and an entry "
                       "in data_manifest.yaml, with TODO(<name>) markers where the dataset's specifics go.")
    p.add_argument("name", help="dataset name: lower-case words joined by '-' (e.g. telugu-chars)")
    p.add_argument("--root", type=Path, help="charbench checkout to write into (default: the one charbench runs from)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from charbench.progress import stdout as console
    from charbench.scaffold import scaffold

    root = args.root or Path(__file__).resolve().parents[2]
    for path in scaffold(args.name, root):
        console.print(f"wrote {path}", soft_wrap=True, markup=False)
    console.print(f"next: fill in the TODO({args.name}) markers, then run: bash scripts/test.sh -k {args.name}",
                  soft_wrap=True, markup=False)
    return 0
