"""One rich progress-bar factory, so every long command looks and behaves the same."""

from __future__ import annotations

import sys
from contextlib import nullcontext

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)  # progress, status and errors
stdout = Console()  # results a user may pipe or capture (tables, paths)


class _Silent:
    """Stands in for rich.Progress when progress output is off."""

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        pass

    def advance(self, *args, **kwargs) -> None:
        pass


def progress_bar(enabled: bool = True):
    """A context manager yielding a rich Progress (or a silent stand-in when disabled or not a terminal)."""
    if not enabled:
        return nullcontext(_Silent())
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=not sys.stderr.isatty(),
        disable=False,
    )
