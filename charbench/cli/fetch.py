"""`charbench fetch NAME`: download a dataset's raw files (mirrors, resume, sha256) into its raw folder."""

from __future__ import annotations

import argparse

from rich.console import Console

from charbench.io.download import fetch
from charbench.manifest import raw_dir_for


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` subcommand."""
    parser = subparsers.add_parser(
        "fetch",
        help="download the raw files of a dataset",
        description="Download the raw files of a dataset listed in data_manifest.yaml, verifying sha256; a partial "
        "download is resumed and a failing mirror is followed by the next.",
    )
    parser.add_argument("name", help="dataset name (see `charbench datasets`)")
    parser.add_argument("--dir", default=None, help="folder to download into (default: <data root>/raw/<dataset>)")
    parser.add_argument("--data-root", default=None, help="data root (default: $CHARBENCH_DATA or the cache folder)")
    parser.add_argument("--all", action="store_true", help="also fetch the files the manifest marks optional")
    parser.add_argument("--timeout", type=float, default=30.0, help="socket timeout in seconds (default: 30)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    dest = args.dir if args.dir else raw_dir_for(args.name, args.data_root)
    files = fetch(args.name, dest, progress=not args.no_progress, include_optional=args.all, timeout=args.timeout)
    console = Console()
    for path in files:
        console.print(f"[green]ok[/green] {path}")
    console.print(f"{len(files)} file(s) of {args.name} in {dest}")
    return 0
