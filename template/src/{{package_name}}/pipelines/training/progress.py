"""Epoch progress display; quiet when stderr is not a terminal (CI, DVC logs)."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def epoch_progress() -> Progress:
    """Return a rich progress bar for epochs, disabled when not attached to a TTY."""
    return Progress(
        TextColumn("[bold]training"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not sys.stderr.isatty(),
        transient=False,
    )
