"""Entry point of the ``charbench`` command: builds the subcommands and reports errors in one line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import charbench
from charbench.errors import CharbenchError

# One module per subcommand, each with register(subparsers) and _run(args) -> int.
COMMANDS = ["datasets", "fetch", "prepare", "index", "verify", "inspect", "suites", "run", "report", "demo", "new"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charbench",
        description="Prepare handwritten-character datasets as HDF5 shards and benchmark CNNs on them.",
    )
    parser.add_argument("--version", action="version", version=f"charbench {charbench.__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"charbench.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CharbenchError as exc:
        if args.debug:
            raise
        print(f"charbench {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"charbench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
