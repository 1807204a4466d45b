"""The table schema: inferred from the raw table (Palmer penguins), edited, read back, enforced."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.data.cli import data
from kedro_mlops_kit.schema import (
    DataValidationError,
    SchemaDataset,
    TableSchema,
    infer_schema,
    load_schema,
    validate_frame,
)

PENGUIN_KINDS = {
    "studyName": "categorical",
    "Sample Number": "integer",
    "Species": "target",
    "Region": "categorical",
    "Island": "categorical",
    "Stage": "categorical",
    "Individual ID": "identifier",
    "Clutch Completion": "categorical",
    "Date Egg": "datetime",
    "Culmen Length (mm)": "numeric",
    "Culmen Depth (mm)": "numeric",
    "Flipper Length (mm)": "integer",
    "Body Mass (g)": "integer",
    "Sex": "categorical",
    "Delta 15 N (o/oo)": "numeric",
    "Delta 13 C (o/oo)": "numeric",
    "Comments": "categorical",
}


@pytest.fixture
def penguins_schema(penguins_raw):
    return infer_schema(penguins_raw, "Species")


def test_penguin_kinds_are_inferred(penguins_schema, caplog):
    assert penguins_schema.kinds == PENGUIN_KINDS
    assert penguins_schema.target == "Species"
    assert "Individual ID" not in penguins_schema.feature_columns
    assert "Species" not in penguins_schema.feature_columns
    assert penguins_schema.columns_of("datetime") == ["Date Egg"]


def test_identifier_is_logged_with_the_override_to_use_it(penguins_raw, caplog):
    with caplog.at_level("WARNING", logger="kedro_mlops_kit.schema"):
        infer_schema(penguins_raw, "Species")
    assert "'Individual ID' looks like an identifier (190 distinct values in 344 rows)" in (
        caplog.text
    )
    assert "column_kinds.Individual ID: categorical" in caplog.text


def test_penguin_nullability_and_dtypes(penguins_schema):
    described = penguins_schema.to_dict()
    assert described["Sex"] == {"kind": "categorical", "dtype": "str", "nullable": True}
    assert described["Body Mass (g)"]["nullable"] is True
    assert described["Island"]["nullable"] is False
    assert described["Date Egg"]["dtype"] == "datetime64[ns]"
    assert described["Species"] == {"kind": "target", "dtype": "str", "nullable": False}
    assert not penguins_schema.nullable("Individual ID")


def test_penguins_validate_against_their_own_schema(penguins_raw, penguins_schema):
    out = validate_frame(penguins_raw, penguins_schema)
    assert pd.api.types.is_datetime64_any_dtype(out["Date Egg"])
    assert out["Sample Number"].dtype == np.float64
    assert out["Sex"].isna().sum() == penguins_raw["Sex"].isna().sum()
    assert out["Date Egg"].min() == pd.Timestamp("2007-11-09")


def test_overrides_replace_inferred_kinds(penguins_raw):
    overrides = {
        "Individual ID": "categorical",
        "Sample Number": "identifier",
        "Body Mass (g)": "numeric",
    }
    schema = infer_schema(penguins_raw, "Species", overrides)
    assert schema.kinds == PENGUIN_KINDS | overrides
    assert "Individual ID" in schema.feature_columns
    assert "Sample Number" not in schema.feature_columns
    assert schema.to_dict()["Individual ID"]["dtype"] == "str"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Colour": "categorical"}, r"column_kinds names 'Colour', which is not in the raw data"),
        ({"Island": "text"}, r"column_kinds.Island is 'text'; use one of"),
        ({"Island": "target"}, r"the target is data_processing.target"),
    ],
)
def test_bad_overrides_are_refused(penguins_raw, overrides, message):
    with pytest.raises(DataValidationError, match=message):
        infer_schema(penguins_raw, "Species", overrides)


def test_target_must_be_a_column_and_the_table_not_empty(penguins_raw):
    with pytest.raises(DataValidationError, match=r"Target column 'species' is not in the raw"):
        infer_schema(penguins_raw, "species")
    with pytest.raises(DataValidationError, match=r"empty table \(0 rows, 17 columns\)"):
        infer_schema(penguins_raw.iloc[:0], "Species")


def test_yaml_round_trip_keeps_kinds_dtypes_and_nullability(penguins_schema, penguins_raw):
    text = penguins_schema.to_yaml(source="penguins")
    assert text.startswith("# The table schema: inferred by `make schema` from penguins")
    again = TableSchema.from_yaml(text)
    assert again.kinds == penguins_schema.kinds
    assert again.to_dict() == penguins_schema.to_dict()
    pd.testing.assert_frame_equal(
        validate_frame(penguins_raw, again), validate_frame(penguins_raw, penguins_schema)
    )


def test_edited_schema_is_read_back(penguins_schema, tmp_path):
    text = penguins_schema.to_yaml().replace(
        "  Individual ID:\n    title: identifier", "  Individual ID:\n    title: categorical"
    )
    path = tmp_path / "schema.yml"
    path.write_text(text)
    schema = load_schema(path)
    assert schema.kinds["Individual ID"] == "categorical"
    assert "Individual ID" in schema.feature_columns


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("ame:\n    title: categorical", "ame:\n    title: colour"), r"\{'studyName': 'colour'\}"),
        (("title: target", "title: categorical"), r"exactly one column of kind 'target'"),
        (("columns:", "columns: ["), r"is not a valid pandera schema"),
    ],
)
def test_a_broken_schema_file_says_what_is_wrong(penguins_schema, tmp_path, edit, message):
    path = tmp_path / "schema.yml"
    path.write_text(penguins_schema.to_yaml().replace(*edit, 1))
    with pytest.raises(DataValidationError, match=message):
        load_schema(path)


def test_an_absent_schema_says_how_to_make_it(tmp_path):
    with pytest.raises(DataValidationError, match=r"does not exist. Run `make schema`"):
        load_schema(tmp_path / "schema.yml")


def test_schema_dataset_saves_and_loads(penguins_schema, tmp_path):
    dataset = SchemaDataset(filepath=str(tmp_path / "conf" / "schema.yml"))
    assert not dataset.exists()
    dataset.save(penguins_schema)
    assert dataset.exists()
    assert dataset.load().to_dict() == penguins_schema.to_dict()


def test_boolean_columns_and_nullable_booleans(caplog):
    frame = pd.DataFrame(
        {
            "flag": [True, False] * 10,
            "maybe": pd.Series([True, False, None] * 6 + [True, False], dtype=object),
            "n": np.arange(20),
            "target": [0.5] * 20,
        }
    )
    schema = infer_schema(frame, "target")
    assert schema.kinds["flag"] == "boolean"
    # A boolean input tensor cannot carry a missing value: it becomes a category.
    assert schema.kinds["maybe"] == "categorical"
    assert schema.kinds["n"] == "integer"
    assert "'maybe' is boolean with missing values" in caplog.text
    assert str(schema.pandera.columns["target"].dtype) == "float64"


def test_dates_as_text_are_datetimes_but_plain_numbers_are_not():
    frame = pd.DataFrame(
        {
            "when": ["2024-01-05", "2024-02-11 10:30:00", None, "2023-12-31"] * 6,
            "code": ["1001", "1002", "1003", "1004"] * 6,
            "target": ["a", "b"] * 12,
        }
    )
    kinds = infer_schema(frame, "target").kinds
    assert kinds == {"when": "datetime", "code": "categorical", "target": "target"}


def test_iso_dates_in_several_formats_validate_value_by_value():
    frame = pd.DataFrame(
        {
            "when": ["2024-01-05", "2024-01-05 10:30:00", None, "2024-01-06T08:00:00+02:00"] * 6,
            "target": [1.0, 2.0] * 12,
        }
    )
    schema = infer_schema(frame, "target")
    assert schema.kinds["when"] == "datetime"
    out = validate_frame(frame, schema)
    assert out["when"].iloc[:4].tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-01-05 10:30"),
        pd.NaT,
        pd.Timestamp("2024-01-06 06:00"),  # offsets are converted to UTC
    ]
    frame.loc[[1, 9], "when"] = "yesterday"
    with pytest.raises(
        DataValidationError, match=r"column 'when' \(datetime.* at rows 1, 9, e\.g\. 'yes"
    ):
        validate_frame(frame, schema)


def test_data_schema_command_infers_and_refuses_to_overwrite(kedro_project, penguins_raw):
    raw = penguins_raw.rename(columns={"Species": "target"})
    root = kedro_project("classification", "  column_kinds: {Sample Number: identifier}\n", raw)
    result = CliRunner().invoke(data, ["schema"])
    assert result.exit_code == 0, result.output
    path = root / "conf" / "base" / "schema.yml"
    assert f"Wrote conf/base/schema.yml ({len(raw)} rows; columns:" in result.stdout
    schema = load_schema(path)
    assert schema.kinds["Sample Number"] == "identifier"
    assert schema.kinds["Date Egg"] == "datetime"
    assert schema.target == "target"
    # The file is the team's once written: only --force replaces it.
    path.write_text(path.read_text() + "# reviewed\n")
    result = CliRunner().invoke(data, ["schema"])
    assert result.exit_code == 1
    assert "conf/base/schema.yml exists" in result.stderr
    assert path.read_text().endswith("# reviewed\n")
    result = CliRunner().invoke(data, ["schema", "--force"])
    assert result.exit_code == 0, result.output
    assert not path.read_text().endswith("# reviewed\n")


def test_a_column_failing_as_a_whole_is_named_without_rows(penguins_schema):
    from kedro_mlops_kit.schema import _explain

    # What pandera reports when coercing a column fails with no row to blame.
    failures = pd.DataFrame(
        {"column": ["Date Egg"], "check": ["coerce_dtype('datetime64[ns]')"], "index": [None],
         "failure_case": [None]}
    )  # fmt: skip
    message = _explain(failures, "The batch", penguins_schema)
    assert "column 'Date Egg' (datetime, dtype datetime64[ns]) fails coerce_dtype" in message
    assert "as a whole: correct those values" in message
    assert "at rows" not in message
