"""``kedro data ...``: put the project's raw data in place.

- ``kedro data raw`` (``make raw-data``): the raw table present and DVC-tracked (``dvc pull`` in
  a fresh clone, the default dataset in a new project).
- ``kedro data default``: write the bundled default dataset for the project's task.

Both run from the project root; pandas, scikit-learn and Kedro load only when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kedro_mlops_kit.tasks import TASKS

__all__ = ["data"]

_RAW_DATA = Path("data/01_raw/dataset.csv")


@click.group(name="data")
def data() -> None:
    """Put the raw data in place: from DVC, or the bundled default dataset."""


@data.command(name="raw", epilog="Exit codes: 0 in place; 1 it could not be put in place.")
@click.option(
    "--path",
    "raw",
    type=click.Path(path_type=Path, dir_okay=False),
    default=_RAW_DATA,
    show_default=True,
    help="The raw table (the catalog's raw_data file).",
)
def raw(raw: Path) -> None:
    """Make the raw table present and DVC-tracked (dvc pull, or write the default dataset)."""
    from kedro_mlops_kit.data.raw_data import RawDataError, ensure_raw_data

    try:
        click.echo(ensure_raw_data(raw))
    except RawDataError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


@data.command(name="default")
@click.option(
    "--task",
    type=click.Choice(TASKS),
    default=None,
    help="Dataset to write (default: the project's data_processing.task parameter).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=_RAW_DATA,
    show_default=True,
    help="CSV file to write (overwritten).",
)
def default(task: str | None, output: Path) -> None:
    """Write the bundled default dataset (breast cancer or diabetes) for the task."""
    from kedro_mlops_kit.data.default_data import write_default_dataset

    write_default_dataset(output, task)
