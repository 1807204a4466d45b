"""Write the default, offline and deterministic raw dataset for the project's task.

``kedro data default [--task classification|regression] [--output PATH]``; without ``--task``
the task is the project's ``data_processing.task`` parameter.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes

from kedro_mlops_kit.tasks import CLASSIFICATION, check_task

__all__ = [
    "DEFAULT_OUTPUT",
    "TARGET_COLUMN",
    "build_dataset",
    "project_task",
    "snake_case",
    "write_default_dataset",
    "write_penguins",
]

DEFAULT_OUTPUT = Path("data/01_raw/dataset.csv")
TARGET_COLUMN = "target"


def snake_case(name: str) -> str:
    """Turn an arbitrary column label into a simple snake_case identifier."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()
    # Identifiers cannot start with a digit; prefix instead of dropping information.
    return f"f_{cleaned}" if cleaned[:1].isdigit() else cleaned


def build_dataset(task: str) -> pd.DataFrame:
    """Return the bundled scikit-learn dataset for ``task`` with a ``target`` column."""
    check_task(task)
    bunch = load_breast_cancer() if task == CLASSIFICATION else load_diabetes(scaled=False)
    frame = pd.DataFrame(bunch.data, columns=[snake_case(c) for c in bunch.feature_names])
    frame[TARGET_COLUMN] = bunch.target
    return frame


def project_task(project_path: Path | None = None) -> str:
    """Return the project's ``data_processing.task`` parameter (base + local configuration).

    Raises:
        click.ClickException: The folder holds no Kedro project, the parameter is missing, or
            it names no supported task.
    """
    from kedro_mlops_kit.project import project_parameters

    try:
        task = project_parameters(project_path)["data_processing"]["task"]
    except (KeyError, TypeError) as error:
        raise click.ClickException(
            "The project has no data_processing.task parameter: set it in "
            "conf/base/parameters_data_processing.yml, or pass --task."
        ) from error
    try:
        return check_task(task)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


def write_default_dataset(output: Path = DEFAULT_OUTPUT, task: str | None = None) -> Path:
    """Write the default dataset for ``task`` (default: the project's) as CSV; return its path."""
    task = task or project_task()
    frame = build_dataset(task)
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False)
    print(f"Wrote {len(frame)} rows x {frame.shape[1]} columns ({task}) to {output}")
    return output


def write_penguins(output: Path = DEFAULT_OUTPUT) -> Path:
    """Write the Palmer penguins raw table (palmerpenguins package, CC0) as CSV; return its path.

    344 penguins, 17 columns as published: text categories, missing values, an ISO date
    (``Date Egg``), an identifier (``Individual ID``) and a three-class text target
    (``Species``). Shipped inside the package: nothing is downloaded.
    """
    from importlib.resources import files

    source = files("palmerpenguins").joinpath("data/penguins-raw.csv")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(source.read_bytes())
    print(f"Wrote the Palmer penguins raw table to {output} (target: Species)")
    return output
