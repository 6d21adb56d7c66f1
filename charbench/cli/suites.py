"""``charbench suites``: list the registered benchmark suites."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    """Add the ``suites`` subcommand to ``sub``."""
    p = sub.add_parser("suites", help="list benchmark suites", description="List the registered benchmark suites.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over suite names")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from charbench.bench.console import print_suites
    from charbench.bench.suites import SUITES

    print_suites([SUITES.get(name) for name in SUITES.names(args.pattern)])
    return 0
