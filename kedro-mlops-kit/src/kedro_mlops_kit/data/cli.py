"""``kedro data ...``: put the project's raw data in place.

- ``kedro data raw`` (``make raw-data``): the raw table present and DVC-tracked (``dvc pull`` in
  a fresh clone, the default dataset in a new project).
- ``kedro data default``: write the bundled default dataset for the project's task.
- ``kedro data schema`` (``make schema``): infer ``conf/base/schema.yml`` from the raw table.
- ``kedro data bench-scale`` (``make bench-scale``): time and memory of each stage at scale.

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
    "--dataset",
    type=click.Choice(["default", "penguins"]),
    default="default",
    show_default=True,
    help="penguins: the Palmer penguins raw table (text, missing values, dates, identifiers; "
    "target 'Species').",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=_RAW_DATA,
    show_default=True,
    help="CSV file to write (overwritten).",
)
def default(task: str | None, dataset: str, output: Path) -> None:
    """Write the bundled default dataset (breast cancer or diabetes) for the task."""
    from kedro_mlops_kit.data.default_data import write_default_dataset, write_penguins

    if dataset == "penguins":
        write_penguins(output)
    else:
        write_default_dataset(output, task)


@data.command(name="schema", epilog="Exit codes: 0 written; 1 not written (the reason is printed).")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing schema file (it is yours: review the diff).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("conf/base/schema.yml"),
    show_default=True,
    help="Schema file to write.",
)
def schema(force: bool, output: Path) -> None:
    """Infer the table schema from the catalog's raw_data and write it for review."""
    from kedro_mlops_kit.schema import DataValidationError, write_inferred_schema

    if output.exists() and not force:
        click.echo(
            f"error: {output} exists; it is enforced on every run and may hold your edits. "
            "Re-infer it with `make schema FORCE=1` (`kedro data schema --force`).",
            err=True,
        )
        sys.exit(1)
    try:
        click.echo(write_inferred_schema(output))
    except DataValidationError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


@data.command(name="bench-scale")
@click.option(
    "--rows",
    type=click.IntRange(min=1_000),
    multiple=True,
    default=(1_000_000, 10_000_000),
    show_default=True,
    help="Table sizes (repeat the option).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data/09_scale_benchmark"),
    show_default=True,
    help="Where the synthetic tables and stage outputs go (large; git- and DVC-ignored).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("data/08_reporting/scale_benchmark.md"),
    show_default=True,
)
def bench_scale(rows: tuple[int, ...], epochs: int, work_dir: Path, output: Path) -> None:
    """Time each pipeline stage and measure its peak memory on large synthetic tables."""
    from kedro_mlops_kit.data.bench_scale import run_benchmark, write_table

    try:
        results = run_benchmark(rows, epochs, work_dir)
    except RuntimeError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {write_table(results, epochs, output)}")
