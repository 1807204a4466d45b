"""Train / validation / test splits: random (stratified for classes), by time, or by group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from kedro_mlops_kit.schema import DATETIME, PARAMS_FILE, DataValidationError, TableSchema
from kedro_mlops_kit.table import DerivedTable, Table
from kedro_mlops_kit.tasks import CLASSIFICATION

STRATEGIES = ("random", "time", "group")

__all__ = ["STRATEGIES", "split_table"]


def _sizes(split: dict[str, Any]) -> tuple[float, float]:
    validation, test = float(split["validation_size"]), float(split["test_size"])
    if not (validation > 0 and test > 0 and validation + test < 1):
        raise DataValidationError(
            f"split.validation_size ({validation}) and split.test_size ({test}) must be "
            f"positive and sum to less than 1 (in {PARAMS_FILE})."
        )
    return validation, test


def _random(data: pd.DataFrame, target: str, task: str, split: dict[str, Any]):
    validation, test = _sizes(split)
    held_out = validation + test
    stratify = data[target] if task == CLASSIFICATION else None
    try:
        train, rest = train_test_split(
            data, test_size=held_out, random_state=split["seed"], stratify=stratify
        )
        validation_set, test_set = train_test_split(
            rest,
            test_size=test / held_out,
            random_state=split["seed"],
            stratify=rest[target] if task == CLASSIFICATION else None,
        )
    except ValueError as error:
        # sklearn's message does not point at the data; a class too rare to stratify is a data
        # problem the user fixes in the raw file or split sizes.
        raise DataValidationError(
            f"Could not split the data ({error}). Each class of {target!r} needs enough rows to "
            "appear in train, validation and test; add rows or change the split sizes."
        ) from error
    return train, validation_set, test_set


def _by_time(data: pd.DataFrame, schema: TableSchema, split: dict[str, Any]):
    column = _time_column(schema, split)
    if data[column].isna().any():
        raise DataValidationError(
            f"split.strategy: time orders rows by {column!r}, which has "
            f"{int(data[column].isna().sum())} missing value(s); fill them or split at random."
        )
    validation, test = _sizes(split)
    # The past trains; the most recent rows test. A stable sort keeps ties in file order.
    ordered = data.sort_values(column, kind="stable")
    n = len(ordered)
    n_test, n_validation = max(1, round(n * test)), max(1, round(n * validation))
    n_train = n - n_test - n_validation
    if n_train < 1:
        raise DataValidationError(f"{n} rows are too few for a time split; add rows.")
    return (
        ordered.iloc[:n_train],
        ordered.iloc[n_train : n_train + n_validation],
        ordered.iloc[n_train + n_validation :],
    )


def _by_group(data: pd.DataFrame, split: dict[str, Any]):
    column = split.get("column")
    if column not in data.columns:
        raise DataValidationError(
            f"split.strategy: group needs split.column naming a column of the raw data (e.g. an "
            f"identifier); got {column!r}. Set it in {PARAMS_FILE}."
        )
    groups = data[column].astype(str).to_numpy()
    if len(np.unique(groups)) < 3:
        raise DataValidationError(
            f"split.strategy: group needs at least 3 distinct values of {column!r}; it has "
            f"{len(np.unique(groups))}."
        )
    validation, test = _sizes(split)
    seed = split["seed"]
    outer = GroupShuffleSplit(n_splits=1, test_size=validation + test, random_state=seed)
    train_idx, rest_idx = next(outer.split(data, groups=groups))
    rest = data.iloc[rest_idx]
    inner = GroupShuffleSplit(n_splits=1, test_size=test / (validation + test), random_state=seed)
    val_idx, test_idx = next(inner.split(rest, groups=groups[rest_idx]))
    return data.iloc[train_idx], rest.iloc[val_idx], rest.iloc[test_idx]


def _time_column(schema: TableSchema, split: dict[str, Any]) -> str:
    column = split.get("column")
    if schema.kinds.get(column) != DATETIME:
        datetimes = schema.columns_of(DATETIME)
        raise DataValidationError(
            f"split.strategy: time needs split.column naming a datetime column; got {column!r} "
            f"(datetime columns: {datetimes}). Set it in {PARAMS_FILE}."
        )
    return column


def _stream_assigner(data: Table, schema: TableSchema, params: dict[str, Any]):
    """Return ``assign(chunk, index)``: each row's split (0 train, 1 validation, 2 test).

    A table read in chunks is split without holding it: ``random`` draws each chunk's
    assignment from a generator seeded by (seed, chunk number), stratified on the target's
    classes within the chunk; ``time`` reads the one datetime column to find the two cut-off
    times (rows at a cut-off time go to the later split, so no timestamp is in two splits);
    ``group`` hashes each group's value with the seed, so a group lands in one split whichever
    chunk holds its rows.
    """
    split = params["split"]
    strategy = split.get("strategy", "random")
    validation, test = _sizes(split)
    seed = int(split["seed"])
    if strategy == "random":
        target = schema.target
        stratified = params["task"] == CLASSIFICATION

        def assign(chunk: pd.DataFrame, index: int) -> np.ndarray:
            draws = np.random.default_rng([seed, index]).random(len(chunk))
            # Rank within each class (or the chunk): exact proportions per class and chunk.
            keys = chunk[target] if stratified else pd.Series(0, index=chunk.index)
            rank = pd.Series(draws, index=chunk.index).groupby(keys.to_numpy()).rank(pct=True)
            return _by_fraction(rank.to_numpy(), validation, test)

        return assign
    if strategy == "time":
        column = _time_column(schema, split)
        times = data[column]
        if times.isna().any():
            raise DataValidationError(
                f"split.strategy: time orders rows by {column!r}, which has "
                f"{int(times.isna().sum())} missing value(s); fill them or split at random."
            )
        ordered = np.sort(times.to_numpy())
        n = len(ordered)
        n_train = n - max(1, round(n * test)) - max(1, round(n * validation))
        if n_train < 1:
            raise DataValidationError(f"{n} rows are too few for a time split; add rows.")
        validation_from = ordered[n_train]
        test_from = ordered[n_train + max(1, round(n * validation))]

        def assign(chunk: pd.DataFrame, index: int) -> np.ndarray:
            values = chunk[column].to_numpy()
            return (values >= validation_from).astype(np.int8) + (values >= test_from)

        return assign
    if strategy == "group":
        column = split.get("column")
        if column not in data.columns:
            raise DataValidationError(
                f"split.strategy: group needs split.column naming a column of the raw data (e.g. "
                f"an identifier); got {column!r}. Set it in {PARAMS_FILE}."
            )
        key = f"{seed:016d}"[-16:]

        def assign(chunk: pd.DataFrame, index: int) -> np.ndarray:
            values = chunk[column].astype(str).to_numpy(dtype=object)
            hashed = pd.util.hash_array(values, hash_key=key, categorize=True)
            return _by_fraction(hashed / np.float64(2**64), validation, test)

        return assign
    raise DataValidationError(
        f"split.strategy is {strategy!r}; use one of {list(STRATEGIES)} in {PARAMS_FILE}."
    )


def _by_fraction(position: np.ndarray, validation: float, test: float) -> np.ndarray:
    """Split 0 below ``1 - validation - test``, 1 up to ``1 - test``, 2 above."""
    return (position > 1 - validation - test).astype(np.int8) + (position > 1 - test)


def _split_stream(
    data: Table, schema: TableSchema, params: dict[str, Any]
) -> tuple[Table, Table, Table]:
    assign = _stream_assigner(data, schema, params)
    columns = data.columns

    def part(which: int):
        def rows(chunk: pd.DataFrame, index: int) -> pd.DataFrame:
            return chunk.loc[assign(chunk, index) == which].reset_index(drop=True)

        return DerivedTable(data, rows, columns)

    return part(0), part(1), part(2)


def split_table(
    data: pd.DataFrame | Table,
    schema: TableSchema,
    params: dict[str, Any],
) -> tuple[pd.DataFrame | Table, pd.DataFrame | Table, pd.DataFrame | Table]:
    """Split validated rows into train / validation / test.

    Strategies (``data_processing.split.strategy``): ``random`` (default; stratified on the
    target for classification), ``time`` (``split.column`` a datetime column: train on the past,
    test on the latest rows), ``group`` (``split.column`` any column, e.g. an identifier: no
    group appears in two splits).

    A :class:`~kedro_mlops_kit.table.Table` of several chunks is split a chunk at a time (see
    :func:`_stream_assigner`) into three tables that yield their rows when saved; a DataFrame
    or a one-chunk table is split in memory with scikit-learn.

    Returns:
        Train, validation and test tables, each with a fresh 0..n-1 index.
    """
    if isinstance(data, Table):
        if not data.fits_in_one_chunk():
            return _split_stream(data, schema, params)
        data = data.to_pandas()
    split = params["split"]
    strategy = split.get("strategy", "random")
    if strategy == "random":
        parts = _random(data, schema.target, params["task"], split)
    elif strategy == "time":
        parts = _by_time(data, schema, split)
    elif strategy == "group":
        parts = _by_group(data, split)
    else:
        raise DataValidationError(
            f"split.strategy is {strategy!r}; use one of {list(STRATEGIES)} in {PARAMS_FILE}."
        )
    return tuple(part.reset_index(drop=True) for part in parts)
