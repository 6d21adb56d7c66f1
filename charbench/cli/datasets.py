"""`charbench datasets`: the catalogue of data_manifest.yaml as a table, with what is on this machine."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from charbench.manifest import load_manifest, prepared_status, raw_dir_for, raw_status

_RAW_STYLE = {"present": "green", "partial": "yellow", "missing": "dim"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` subcommand."""
    parser = subparsers.add_parser(
        "datasets",
        help="list the datasets charbench knows, with their local status",
        description="List every dataset of data_manifest.yaml with its raw format, classes, native splits, license, "
        "and whether its raw files and prepared shards are on this machine.",
    )
    parser.add_argument("--data-root", default=None, help="data root (default: $CHARBENCH_DATA or the cache folder)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    table = Table(title="charbench datasets")
    for column in ("name", "format", "classes", "splits", "license", "access", "raw", "prepared"):
        table.add_column(column, no_wrap=column in ("name", "raw"), overflow="fold")
    for name, entry in load_manifest().items():
        raw = raw_status(entry, raw_dir_for(name, args.data_root))
        prepared = "yes" if prepared_status(name, args.data_root) else "no"
        splits = "/".join(entry.splits) or "-"
        table.add_row(
            name, entry.format, str(entry.num_classes), splits, entry.license, entry.access,
            f"[{_RAW_STYLE[raw]}]{raw}[/]", prepared,
        )  # fmt: skip
    Console().print(table)
    return 0
