"""Entry point of the ``charbench`` command: builds the subcommands and reports errors in one line."""

from __future__ import annotations

import argparse
import importlib
import itertools
import logging
import sys

import charbench
from charbench.errors import CharbenchError

# One module per subcommand, each with register(subparsers) and _run(args) -> int.
COMMANDS = ["datasets", "fetch", "prepare", "index", "verify", "inspect", "suites", "run", "report", "demo", "new"]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, just that subcommand (a run imports the modules of its own command,
    not of every command: 0.1 s less before a prepare starts)."""
    parser = argparse.ArgumentParser(
        prog="charbench",
        description="Prepare handwritten-character datasets as HDF5 shards and benchmark CNNs on them.",
    )
    parser.add_argument("--version", action="version", version=f"charbench {charbench.__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else COMMANDS:
        importlib.import_module(f"charbench.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command(argv)
    if command == "prepare" and _may_use_workers(argv):
        from charbench.pool import warm_up

        warm_up()  # the workers' server imports numba while this process imports the rest and parses (0.3 s)
    parser = build_parser(only=command)
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


def _command(argv: list[str]) -> str | None:
    """The subcommand ``argv`` runs, when nothing but ``--debug`` comes before it (else None: ``--help``,
    ``--version`` or a typo, which the whole parser answers)."""
    first = next((a for a in argv if a != "--debug"), None)
    return first if first in COMMANDS else None


def _may_use_workers(argv: list[str]) -> bool:
    """This process may run on several cores and no ``--workers 1`` was given (a prepare whose converter then needs
    no worker leaves their server idle)."""
    from charbench.pool import available_cores

    one = "--workers=1" in argv or ("--workers", "1") in itertools.pairwise(argv)
    return not one and available_cores() > 1


if __name__ == "__main__":
    sys.exit(main())
