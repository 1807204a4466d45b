import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.drift.schema import (
    BatchFormatError,
    EmptyBatchError,
    InfiniteValuesError,
    MissingColumnsError,
    MissingValuesError,
    NonNumericColumnsError,
    load_batch,
    validate_batch,
)

COLUMNS = ["a", "b", "c"]


def _frame(**overrides) -> pd.DataFrame:
    data = {"a": [1.0, 2.0], "b": [3, 4], "c": [0.5, 0.1]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_valid_batch_is_reordered_and_extra_columns_reported():
    batch = _frame(zzz=["x", "y"], extra=[1, 2])[["c", "zzz", "a", "extra", "b"]]
    validated = validate_batch(batch, COLUMNS)
    assert list(validated.frame.columns) == COLUMNS
    assert validated.extra_columns == ["extra", "zzz"]


def test_missing_columns_are_named_with_expected_columns():
    batch = _frame().drop(columns=["b", "c"])
    with pytest.raises(MissingColumnsError) as info:
        validate_batch(batch, COLUMNS)
    message = str(info.value)
    assert "['b', 'c']" in message
    assert "expected columns: ['a', 'b', 'c']" in message
    assert info.value.missing == ["b", "c"]


def test_non_numeric_column_is_named():
    with pytest.raises(NonNumericColumnsError, match=r"'b' \(dtype object\)"):
        validate_batch(_frame(b=["x", "y"]), COLUMNS)


def test_empty_batch_is_rejected():
    with pytest.raises(EmptyBatchError):
        validate_batch(_frame().iloc[:0], COLUMNS)


def test_nan_column_is_named_with_count():
    with pytest.raises(MissingValuesError, match=r"'c' \(1 NaN\)") as info:
        validate_batch(_frame(c=[np.nan, 1.0]), COLUMNS)
    assert info.value.counts == {"c": 1}


def test_load_batch_by_suffix(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "b.csv", index=False)
    frame.to_parquet(tmp_path / "b.parquet", index=False)
    pd.testing.assert_frame_equal(load_batch(tmp_path / "b.csv"), frame)
    pd.testing.assert_frame_equal(load_batch(tmp_path / "b.parquet"), frame)


def test_load_batch_rejects_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "b.xlsx").write_bytes(b"")
    with pytest.raises(BatchFormatError, match=r"suffix '\.xlsx'"):
        load_batch(tmp_path / "b.xlsx")
    with pytest.raises(BatchFormatError, match="does not exist"):
        load_batch(tmp_path / "absent.csv")


def test_infinite_values_are_named():
    with pytest.raises(InfiniteValuesError, match=r"'a' \(2 inf\)"):
        validate_batch(_frame(a=[np.inf, -np.inf]), COLUMNS)
