"""split_table on the validated Palmer penguins: random (stratified), by time, by group."""

import pandas as pd
import pytest

from kedro_mlops_kit.data.splits import split_table
from kedro_mlops_kit.data.validation import validate_raw_data
from kedro_mlops_kit.schema import DataValidationError, infer_schema

SIZES = {"validation_size": 0.15, "test_size": 0.2, "seed": 3}


@pytest.fixture
def penguins(penguins_raw):
    schema = infer_schema(penguins_raw, "Species")
    params = {"task": "classification", "target": "Species"}
    table, _ = validate_raw_data(penguins_raw, schema, params)
    return table, schema


def _split(penguins, task="classification", **split):
    table, schema = penguins
    return split_table(table, schema, {"task": task, "split": {**SIZES, **split}})


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    # (study, sample number, species) identifies a row of the penguin table.
    key = ["studyName", "Sample Number", "Species"]
    return frame.sort_values(key).reset_index(drop=True)


def test_every_row_lands_in_exactly_one_split(penguins):
    for strategy, column in [("random", None), ("time", "Date Egg"), ("group", "Individual ID")]:
        parts = _split(penguins, strategy=strategy, column=column)
        pd.testing.assert_frame_equal(_sorted(pd.concat(parts)), _sorted(penguins[0]))
        for part in parts:
            assert list(part.index) == list(range(len(part)))
            assert list(part.columns) == list(penguins[0].columns)


def test_random_split_is_stratified_and_reproducible(penguins):
    table, _ = penguins
    train, validation, test = _split(penguins, strategy="random")
    assert (len(train), len(validation), len(test)) == pytest.approx((224, 51, 69), abs=2)
    overall = table["Species"].value_counts(normalize=True)
    for part in (train, validation, test):
        shares = part["Species"].value_counts(normalize=True)
        assert set(shares.index) == set(overall.index)
        # Stratified: each class's share within one row of the table's.
        assert (shares - overall).abs().max() <= 1.0 / len(part) + 1e-9
    again = _split(penguins, strategy="random")
    pd.testing.assert_frame_equal(train, again[0])
    other_seed = _split(penguins, strategy="random", seed=4)
    assert not train.equals(other_seed[0])


def test_random_split_of_a_regression_target_is_not_stratified(penguins):
    table, schema = penguins
    numeric = table.assign(Species=table["Body Mass (g)"].fillna(4000.0))
    parts = split_table(numeric, schema, {"task": "regression", "split": SIZES})
    assert sum(len(p) for p in parts) == len(table)


def test_time_split_tests_on_the_latest_dates(penguins):
    train, validation, test = _split(penguins, strategy="time", column="Date Egg")
    assert train["Date Egg"].max() <= validation["Date Egg"].min()
    assert validation["Date Egg"].max() <= test["Date Egg"].min()
    assert len(test) == round(344 * 0.2)
    assert len(validation) == round(344 * 0.15)
    assert test["Date Egg"].max() == penguins[0]["Date Egg"].max()


def test_time_split_keeps_ties_in_file_order():
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-01-02"] * 6 + ["2024-01-01"] * 4),
            "n": range(10),
            "target": [0, 1] * 5,
        }
    )
    schema = infer_schema(frame, "target")
    split = {"strategy": "time", "column": "when", "validation_size": 0.2, "test_size": 0.2}
    train, validation, test = split_table(frame, schema, {"task": "regression", "split": split})
    assert train["n"].tolist() == [6, 7, 8, 9, 0, 1]
    assert validation["n"].tolist() == [2, 3]
    assert test["n"].tolist() == [4, 5]


def test_group_split_never_shares_a_group(penguins):
    train, validation, test = _split(penguins, strategy="group", column="Individual ID")
    groups = [set(part["Individual ID"]) for part in (train, validation, test)]
    assert not groups[0] & groups[1]
    assert not groups[0] & groups[2]
    assert not groups[1] & groups[2]
    # Some penguins appear in several rows (several seasons): all of them moved together.
    counts = penguins[0]["Individual ID"].value_counts()
    assert counts.max() > 1
    assert all(len(part) > 0 for part in (train, validation, test))


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ({"strategy": "kfold"}, r"split.strategy is 'kfold'; use one of \['random', 'time'"),
        ({"strategy": "time", "column": "Island"}, r"needs split.column naming a datetime"),
        ({"strategy": "time", "column": None}, r"got None \(datetime columns: \['Date Egg'\]\)"),
        ({"strategy": "group", "column": "Penguin"}, r"naming a column of the raw data"),
        ({"strategy": "group", "column": "Region"}, r"at least 3 distinct values of 'Region'"),
        ({"strategy": "random", "test_size": 0.9}, r"must be positive and sum to less than 1"),
        ({"strategy": "time", "column": "Date Egg", "validation_size": 0}, r"must be positive"),
    ],
)
def test_bad_split_settings_say_what_to_fix(penguins, split, message):
    with pytest.raises(DataValidationError, match=message):
        _split(penguins, **split)


def test_time_split_refuses_missing_dates(penguins):
    table, schema = penguins
    table = table.copy()
    table.loc[[0, 1], "Date Egg"] = pd.NaT
    split = {**SIZES, "strategy": "time", "column": "Date Egg"}
    with pytest.raises(DataValidationError, match=r"'Date Egg', which has 2 missing value"):
        split_table(table, schema, {"task": "classification", "split": split})


def test_a_class_too_rare_to_stratify_is_a_data_problem(penguins):
    table, schema = penguins
    rare = table.copy()
    rare.loc[0, "Species"] = "Emperor"
    with pytest.raises(DataValidationError, match=r"Each class of 'Species' needs enough rows"):
        split_table(rare, schema, {"task": "classification", "split": SIZES})
