"""validate_raw_data: the raw table against its schema, with what the schema cannot say."""

import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.data.validation import DataValidationError, validate_raw_data
from tests.helpers import data_params, make_frame, table_schema

PARAMS = data_params("classification")


@pytest.fixture
def schema(classification_frame):
    return table_schema(classification_frame)


def test_valid_data_is_coerced_to_the_schema_and_reported(classification_frame, schema):
    # Columns in another order, dates as ISO text (as a CSV file holds them).
    raw = classification_frame.assign(day=classification_frame["day"].dt.strftime("%Y-%m-%d"))
    out, report = validate_raw_data(raw[list(reversed(raw.columns))], schema, PARAMS)
    assert list(out.columns) == list(schema.kinds)
    assert pd.api.types.is_datetime64_any_dtype(out["day"])
    pd.testing.assert_series_equal(out["day"], classification_frame["day"].astype(out["day"].dtype))
    assert list(out.index) == list(range(120))
    assert report["rows_read"] == report["rows_kept"] == 120
    assert report["rows_dropped_missing_target"] == 0
    assert report["feature_columns"] == ["x1", "x2", "colour", "day"]
    assert report["identifier_columns"] == []
    assert report["missing_values"] == {
        "x1": 0,
        "x2": int(classification_frame["x2"].isna().sum()),
        "colour": int(classification_frame["colour"].isna().sum()),
        "day": 0,
    }


def test_target_parameter_must_match_the_schema(classification_frame, schema):
    with pytest.raises(DataValidationError, match=r"data_processing.target is 'label'") as info:
        validate_raw_data(classification_frame, schema, {**PARAMS, "target": "label"})
    assert "marks 'target' as the target" in str(info.value)


def test_numeric_column_holding_text_names_column_rows_and_fix(classification_frame, schema):
    frame = classification_frame.astype({"x1": object})
    frame.loc[[4, 9], "x1"] = "n/a (sensor)"
    with pytest.raises(DataValidationError) as info:
        validate_raw_data(frame, schema, PARAMS)
    message = str(info.value)
    assert "column 'x1' (numeric, dtype float64)" in message
    assert "at rows 4, 9" in message
    assert "'n/a (sensor)'" in message
    assert "correct those values, or change the column's kind/dtype" in message
    assert "make schema FORCE=1" in message


def test_a_column_added_is_named(classification_frame, schema):
    with pytest.raises(DataValidationError, match=r"\['size'\] are not in conf/base/schema.yml"):
        validate_raw_data(classification_frame.assign(size=1.0), schema, PARAMS)


def test_a_column_gone_is_named(classification_frame, schema):
    with pytest.raises(DataValidationError, match=r"column\(s\) \['colour'\] are missing") as info:
        validate_raw_data(classification_frame.drop(columns="colour"), schema, PARAMS)
    assert "re-infer it with `make schema FORCE=1`" in str(info.value)


def test_header_only_table_is_empty(tmp_path, classification_frame, schema):
    path = tmp_path / "dataset.csv"
    classification_frame.iloc[:0].to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"The raw data is empty: it has a header \(5"):
        validate_raw_data(pd.read_csv(path), schema, PARAMS)


def test_missing_values_in_a_non_nullable_column_name_rows_and_fix(classification_frame, schema):
    assert not schema.nullable("x1")
    frame = classification_frame.copy()
    frame.loc[[2, 7], "x1"] = np.nan
    with pytest.raises(DataValidationError) as info:
        validate_raw_data(frame, schema, PARAMS)
    message = str(info.value)
    assert "column 'x1' (numeric) has missing values at rows 2, 7" in message
    assert "set `nullable: true` for 'x1' in conf/base/schema.yml" in message


def test_every_failing_column_is_named_at_once(classification_frame, schema):
    frame = classification_frame.astype({"x1": object})
    frame.loc[3, "x1"] = "three"
    frame["day"] = frame["day"].astype(object)
    frame.loc[[5, 6, 8, 10, 11, 12, 13], "day"] = "yesterday"
    with pytest.raises(DataValidationError) as info:
        validate_raw_data(frame, schema, PARAMS)
    message = str(info.value)
    assert "column 'x1'" in message and "at rows 3," in message
    assert "column 'day' (datetime" in message
    assert "at rows 5, 6, 8, 10, 11 (and 2 more)" in message


def test_missing_target_rows_are_dropped_and_counted(classification_frame, schema):
    frame = classification_frame.copy()
    frame.loc[[3, 5], "target"] = None
    # The schema was inferred from a table with every target present: the rows are still
    # dropped (drop_missing_target is true by default), not refused as non-nullable.
    assert not schema.nullable("target")
    out, report = validate_raw_data(frame, schema, PARAMS)
    assert len(out) == 118
    assert out["target"].notna().all()
    assert list(out.index) == list(range(118))
    assert report["rows_read"] == 120
    assert report["rows_kept"] == 118
    assert report["rows_dropped_missing_target"] == 2


def test_missing_target_is_an_error_when_asked(classification_frame, schema):
    frame = classification_frame.copy()
    frame.loc[[3, 5], "target"] = None
    params = {**PARAMS, "drop_missing_target": False}
    with pytest.raises(DataValidationError, match=r"2 row\(s\) have no target 'target'") as info:
        validate_raw_data(frame, schema, params)
    assert "rows [3, 5]" in str(info.value)
    assert "drop_missing_target: true" in str(info.value)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_all_missing_target_is_refused(task):
    frame = make_frame(task)
    schema = table_schema(frame)
    frame["target"] = np.nan
    with pytest.raises(DataValidationError, match=r"Every value of the target column 'target'"):
        validate_raw_data(frame, schema, data_params(task))


def test_a_single_class_is_refused_for_classification_only(classification_frame, schema):
    frame = classification_frame.assign(target="yes")
    with pytest.raises(DataValidationError, match=r"holds a single class \('yes'\)") as info:
        validate_raw_data(frame, schema, PARAMS)
    assert "data_processing.task: regression" in str(info.value)
    # A constant target is a (useless but valid) quantity for regression.
    numeric = classification_frame.assign(target=1.0)
    out, _ = validate_raw_data(numeric, table_schema(numeric), data_params("regression"))
    assert len(out) == 120


def test_categorical_cardinality_explosion_is_refused(classification_frame, schema):
    frame = classification_frame.assign(colour=[f"shade-{i}" for i in range(120)])
    with pytest.raises(DataValidationError) as info:
        validate_raw_data(frame, schema, PARAMS)
    message = str(info.value)
    assert "Categorical column 'colour' now has 120 distinct values in 120 rows" in message
    assert "Set its title to 'identifier'" in message
    assert "column_kinds.colour: identifier" in message
    # Many values, but each seen often: still a category.
    repeated = classification_frame.assign(colour=[f"shade-{i % 30}" for i in range(120)])
    out, _ = validate_raw_data(repeated, schema, PARAMS)
    assert out["colour"].nunique() == 30
