"""Epoch progress display, shown by rank 0 on a terminal only (quiet in CI and DVC logs)."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kedro_mlops_kit import ranks


def epoch_progress() -> Progress:
    """Return a rich progress bar for epochs, shown by rank 0 on a TTY only."""
    return Progress(
        TextColumn("[bold]training"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not (sys.stderr.isatty() and ranks.is_rank_zero()),
        transient=False,
    )
