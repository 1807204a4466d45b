import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.data.validation import (
    DataValidationError,
    validate_raw_data,
)
from tests.helpers import data_params


def test_valid_data_keeps_declared_columns_in_order(classification_frame):
    params = {**data_params("classification"), "feature_columns": ["colour", "x1"]}
    out = validate_raw_data(classification_frame, params)
    assert list(out.columns) == ["colour", "x1", "target"]


def test_missing_target_names_column_and_fix(classification_frame):
    params = {**data_params("classification"), "target": "label"}
    with pytest.raises(DataValidationError, match=r"Target column 'label' is missing") as info:
        validate_raw_data(classification_frame, params)
    assert "data_processing.target" in str(info.value)


def test_missing_feature_names_column(classification_frame):
    params = {**data_params("classification"), "feature_columns": ["x1", "x9"]}
    with pytest.raises(DataValidationError, match=r"Feature column 'x9' is missing"):
        validate_raw_data(classification_frame, params)


def test_non_numeric_feature_says_to_map_codes(classification_frame):
    frame = classification_frame.assign(x2=["a", "b", "c"] * 40)
    with pytest.raises(DataValidationError, match=r"Feature column 'x2' is not numeric") as info:
        validate_raw_data(frame, data_params("classification"))
    assert "integer codes" in str(info.value)


def test_empty_table_is_rejected_and_the_default_data_commands_named(classification_frame):
    with pytest.raises(DataValidationError, match=r"Raw dataset is empty \(0 rows") as info:
        validate_raw_data(classification_frame.iloc[0:0], data_params("classification"))
    assert "`kedro data default`" in str(info.value)
    assert "`make raw-data`" in str(info.value)


def test_nan_in_target_counts_rows(classification_frame):
    frame = classification_frame.astype({"target": float})
    frame.loc[[3, 5], "target"] = np.nan
    with pytest.raises(DataValidationError, match=r"Target column 'target' has 2 missing"):
        validate_raw_data(frame, data_params("classification"))


def test_nan_in_feature_names_column(classification_frame):
    frame = classification_frame.copy()
    frame.loc[0, "x1"] = np.nan
    with pytest.raises(DataValidationError, match=r"Feature column 'x1' has 1 missing"):
        validate_raw_data(frame, data_params("classification"))


def test_non_integer_categorical_is_rejected(classification_frame):
    frame = classification_frame.assign(colour=classification_frame["colour"] + 0.5)
    with pytest.raises(DataValidationError, match=r"Categorical column 'colour' holds non-int"):
        validate_raw_data(frame, data_params("classification"))


def test_categorical_must_be_a_feature(classification_frame):
    params = {**data_params("classification"), "feature_columns": ["x1", "x2"]}
    with pytest.raises(DataValidationError, match=r"Categorical column 'colour' is not a feature"):
        validate_raw_data(classification_frame, params)


def test_header_only_csv_is_rejected(tmp_path):
    path = tmp_path / "dataset.csv"
    path.write_text("x1,target\n")
    with pytest.raises(DataValidationError, match="empty"):
        validate_raw_data(
            pd.read_csv(path), {**data_params("regression"), "categorical_columns": []}
        )
