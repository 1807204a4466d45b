"""Nodes of the data_processing pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro_mlops_kit.data.validation import DataValidationError, validate_raw_data
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.tasks import CLASSIFICATION, REGRESSION, check_task
from sklearn.model_selection import train_test_split

__all__ = ["fit_preprocessor", "split_data", "validate_raw_data"]


def split_data(
    data: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split into train / validation / test with a fixed seed.

    Classification splits are stratified on the target so every split keeps the class balance
    (and every class is seen in training, which the class-label encoding relies on).

    Args:
        data: Validated table (features + target).
        params: The ``data_processing`` parameters; uses ``task``, ``target`` and ``split``.

    Returns:
        Train, validation and test tables, each with a fresh 0..n-1 index.
    """
    task = check_task(params["task"])
    split = params["split"]
    target = params["target"]
    held_out = split["validation_size"] + split["test_size"]
    if not 0 < held_out < 1:
        raise ValueError("split.validation_size + split.test_size must be strictly in (0, 1).")

    stratify = data[target] if task == CLASSIFICATION else None
    try:
        train, rest = train_test_split(
            data, test_size=held_out, random_state=split["seed"], stratify=stratify
        )
        rest_stratify = rest[target] if task == CLASSIFICATION else None
        validation, test = train_test_split(
            rest,
            test_size=split["test_size"] / held_out,
            random_state=split["seed"],
            stratify=rest_stratify,
        )
    except ValueError as error:
        # sklearn's message does not point at the data; a class too rare to stratify is a data
        # problem the user fixes in the raw file or split sizes.
        raise DataValidationError(
            f"Could not split the data ({error}). Each class of '{target}' needs enough rows to "
            "appear in train, validation and test; add rows or change the split sizes."
        ) from error
    return tuple(part.reset_index(drop=True) for part in (train, validation, test))


def fit_preprocessor(train: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Fit standardisation, category lists and target encoding on the training split only.

    Args:
        train: Training split (features + target) produced by :func:`split_data`.
        params: The ``data_processing`` parameters.

    Returns:
        The fitted :class:`Preprocessor` as a JSON-serialisable dict.
    """
    task = check_task(params["task"])
    target = params["target"]
    features = [c for c in train.columns if c != target]
    categorical = list(params.get("categorical_columns") or [])
    numeric = [c for c in features if c not in categorical]

    stds = train[numeric].std(ddof=0)
    preprocessor = Preprocessor(
        task=task,
        target=target,
        feature_columns=features,
        categorical_columns=categorical,
        means={c: float(v) for c, v in train[numeric].mean().items()},
        # A constant column would divide by zero; scaling by 1 leaves it centred at 0.
        stds={c: float(v) if v > 0 else 1.0 for c, v in stds.items()},
        categories={c: sorted(float(v) for v in train[c].unique()) for c in categorical},
        class_labels=_class_labels(train[target]) if task == CLASSIFICATION else [],
        target_mean=float(train[target].mean()) if task == REGRESSION else None,
        target_std=_safe_std(train[target]) if task == REGRESSION else None,
    )
    return preprocessor.to_dict()


def _class_labels(target: pd.Series) -> list[Any]:
    # Plain Python scalars keep the JSON artifact and the model attributes portable.
    return sorted(v.item() if hasattr(v, "item") else v for v in target.unique())


def _safe_std(values: pd.Series) -> float:
    std = float(values.std(ddof=0))
    return std if std > 0 else 1.0
