"""Write the default, offline and deterministic raw dataset for the configured task.

Usage: ``python -m <package>.default_data [--task classification|regression] [--output PATH]``.
Without ``--task`` the task is read from ``conf/base/parameters_data_processing.yml``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
import yaml
from sklearn.datasets import load_breast_cancer, load_diabetes

from .tasks import CLASSIFICATION, TASKS, check_task

DEFAULT_PARAMS_FILE = Path("conf/base/parameters_data_processing.yml")
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


def task_from_parameters(params_file: Path) -> str:
    """Read ``data_processing.task`` from a Kedro parameters file."""
    params = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    return check_task(params["data_processing"]["task"])


def main(argv: list[str] | None = None) -> Path:
    """Parse arguments, write the dataset as CSV and return the written path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, default=None)
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS_FILE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    task = args.task or task_from_parameters(args.params)
    frame = build_dataset(task)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    print(f"Wrote {len(frame)} rows x {frame.shape[1]} columns ({task}) to {args.output}")
    return args.output


if __name__ == "__main__":
    main()
