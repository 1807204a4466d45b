"""Tables read a chunk at a time: the dataset, and every stage that streams them.

Each streamed result is compared with the in-memory path on the same rows, with chunks small
enough (a few dozen rows) that every table here has several.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError

from kedro_mlops_kit.data.splits import split_table
from kedro_mlops_kit.data.validation import validate_raw_data
from kedro_mlops_kit.preprocessor import fit_preprocessor
from kedro_mlops_kit.schema import DataValidationError, _profile, infer_schema
from kedro_mlops_kit.table import CsvTable, ParquetTable, TableDataset, sample_rows
from kedro_mlops_kit.tasks import CLASSIFICATION
from kedro_mlops_kit.training.fit import to_training_data
from tests.helpers import data_params, make_classification_frame, table_schema

CHUNK = 25


def _saved(frame, path, chunk_rows=CHUNK):
    dataset = TableDataset(str(path), chunk_rows=chunk_rows)
    dataset.save(frame)
    return dataset.load()


@pytest.fixture
def frame():
    return make_classification_frame()  # 120 rows: 5 chunks of 25 (the last one 20)


@pytest.fixture
def table(frame, tmp_path):
    return _saved(frame, tmp_path / "raw.parquet")


def test_a_parquet_table_reads_row_groups_and_behaves_like_a_frame(frame, table):
    assert isinstance(table, ParquetTable)
    assert len(table) == 120 and table.num_chunks == 5 and not table.fits_in_one_chunk()
    assert table.columns == list(frame.columns)
    assert len(table.chunk(4)) == 20
    pd.testing.assert_frame_equal(table.to_pandas(), frame, check_dtype=False)
    pd.testing.assert_series_equal(table["x1"], frame["x1"])
    assert sample_rows(table, 30, seed=1).equals(sample_rows(table, 30, seed=1))
    assert 10 < len(table.sample(30, random_state=1)) < 60
    with pytest.raises(KeyError):
        table["nope"]


def test_a_csv_table_is_read_in_order(frame, tmp_path):
    path = tmp_path / "raw.csv"
    frame.to_csv(path, index=False)
    table = TableDataset(str(path), chunk_rows=CHUNK).load()
    assert isinstance(table, CsvTable) and table.num_chunks is None
    assert len(table) == 120 and not table.fits_in_one_chunk()
    assert [len(c) for c in table.chunks()] == [25, 25, 25, 25, 20]
    with pytest.raises(DatasetError, match="writes Parquet only"):
        TableDataset(str(path)).save(frame)


def test_a_file_of_one_chunk_loads_as_a_dataframe(frame, tmp_path):
    """Team code written for DataFrames keeps working on tables of ordinary size."""
    loaded = _saved(frame, tmp_path / "small.parquet", chunk_rows=1000)
    assert isinstance(loaded, pd.DataFrame)
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=False)
    frame.to_csv(tmp_path / "small.csv", index=False)
    assert isinstance(TableDataset(str(tmp_path / "small.csv")).load(), pd.DataFrame)


def test_save_args_reach_the_parquet_writer(frame, tmp_path):
    path = tmp_path / "train.parquet"
    TableDataset(str(path), chunk_rows=25, save_args={"compression": "gzip"}).save(frame)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "GZIP"
    with pytest.raises(DatasetError, match="not options of pyarrow.parquet.ParquetWriter"):
        TableDataset(str(path), save_args={"compresion": "gzip"}).save(frame)
    assert len(ParquetTable(path)) == 120, "the refused save left the file as it was"


def test_the_dataset_refuses_other_files_and_a_failed_save_keeps_the_old_file(frame, tmp_path):
    with pytest.raises(DatasetError, match=r"\.parquet and \.csv"):
        TableDataset(str(tmp_path / "raw.xlsx"))
    path = tmp_path / "train.parquet"
    _saved(frame, path)

    class Broken(ParquetTable):
        def chunks(self, columns=None):
            yield frame.iloc[:10]
            raise OSError("disk full")

    with pytest.raises(DatasetError, match="disk full"):
        TableDataset(str(path)).save(Broken(path))
    assert len(ParquetTable(path)) == 120
    assert not list(tmp_path.glob(".*partial"))


def test_streamed_validation_equals_the_in_memory_one(frame, table):
    frame.loc[[3, 70], "target"] = None  # two rows without a target, in different chunks
    table = _saved(frame, table.path)
    schema, params = table_schema(make_classification_frame()), data_params(CLASSIFICATION)
    streamed, report = validate_raw_data(table, schema, params)
    in_memory, expected = validate_raw_data(frame, schema, params)
    assert report == expected and report["rows_dropped_missing_target"] == 2
    pd.testing.assert_frame_equal(streamed.to_pandas(), in_memory)


def test_streamed_validation_names_rows_counted_from_the_first(frame, tmp_path):
    schema = table_schema(frame)
    frame["x1"] = frame["x1"].astype(object)
    frame.loc[103, "x1"] = "twelve"  # in the fifth chunk
    frame.to_csv(tmp_path / "raw.csv", index=False)
    table = TableDataset(str(tmp_path / "raw.csv"), chunk_rows=CHUNK).load()
    with pytest.raises(DataValidationError, match=r"x1.*103"):
        validate_raw_data(table, schema, data_params(CLASSIFICATION))


def test_streamed_validation_refuses_a_missing_target_when_asked(frame, tmp_path):
    frame.loc[60, "target"] = None
    table = _saved(frame, tmp_path / "raw.parquet")
    params = {**data_params(CLASSIFICATION), "drop_missing_target": False}
    with pytest.raises(DataValidationError, match=r"\[60\].*drop_missing_target"):
        validate_raw_data(table, table_schema(make_classification_frame()), params)


def test_streamed_validation_refuses_a_single_class_and_a_cardinality_explosion(frame, tmp_path):
    schema = table_schema(frame)
    single = frame.assign(target="yes")
    with pytest.raises(DataValidationError, match="single class"):
        validate_raw_data(
            _saved(single, tmp_path / "a.parquet"), schema, data_params("classification")
        )
    exploded = frame.assign(colour=[f"c{i}" for i in range(120)])
    with pytest.raises(DataValidationError, match="'colour' now has 120 distinct values"):
        validate_raw_data(
            _saved(exploded, tmp_path / "b.parquet"), schema, data_params("classification")
        )


def _split(table, schema, **split):
    params = data_params(CLASSIFICATION)
    params["split"] = {**params["split"], **split}
    parts = split_table(table, schema, params)
    return [part.to_pandas() for part in parts]


def test_a_streamed_random_split_is_stratified_disjoint_and_repeatable(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=2000), "target": rng.choice(["a", "b"], 2000)})
    frame["row"] = np.arange(2000).astype(float)
    table = _saved(frame, tmp_path / "raw.parquet", chunk_rows=200)
    schema = table_schema(frame)
    train, validation, test = _split(table, schema)
    assert sorted(pd.concat([train, validation, test])["row"]) == list(range(2000))
    assert (len(train), len(validation), len(test)) == pytest.approx((1400, 300, 300), abs=20)
    share = frame["target"].eq("a").mean()
    for part in (train, validation, test):
        assert part["target"].eq("a").mean() == pytest.approx(share, abs=0.02)
    again = _split(table, schema)
    assert all(a.equals(b) for a, b in zip(again, (train, validation, test), strict=True))


def test_a_streamed_time_split_tests_on_the_latest_rows(frame, table):
    train, validation, test = _split(table, table_schema(frame), strategy="time", column="day")
    assert len(train) + len(validation) + len(test) == 120
    assert train["day"].max() < validation["day"].min()
    assert validation["day"].max() < test["day"].min()


def test_a_streamed_group_split_keeps_each_group_in_one_split(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "customer": [f"c{i}" for i in rng.integers(0, 300, 3000)],
            "x1": rng.normal(size=3000),
            "target": rng.choice(["a", "b"], 3000),
        }
    )
    schema = table_schema(frame)
    parts = _split(
        _saved(frame, tmp_path / "raw.parquet", 250), schema, strategy="group", column="customer"
    )
    groups = [set(part["customer"]) for part in parts]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert sum(len(p) for p in parts) == 3000 and all(len(p) > 200 for p in parts)


def test_preprocessing_fitted_on_a_table_equals_the_in_memory_fit(frame, table):
    schema, params = table_schema(frame), data_params(CLASSIFICATION)
    from_table = fit_preprocessor(table, schema, params)
    from_frame = fit_preprocessor(frame, schema, params)
    assert from_table.class_labels == from_frame.class_labels == ["no", "yes"]
    np.testing.assert_allclose(from_table.transform(frame), from_frame.transform(frame))


def test_training_reads_a_table_one_row_group_at_a_time(frame, table):
    preprocessor = fit_preprocessor(frame, table_schema(frame), data_params(CLASSIFICATION))
    data = to_training_data(table, preprocessor, chunk_rows=CHUNK)
    assert data.x is None and len(data) == 120
    in_order = [x for x, _ in data.chunks()]
    assert [len(x) for x in in_order] == [25, 25, 25, 25, 20]
    np.testing.assert_allclose(torch.cat(in_order).numpy(), preprocessor.transform(frame))
    shuffled = [len(x) for x, _ in data.chunks(torch.Generator().manual_seed(1))]
    assert sorted(shuffled) == [20, 25, 25, 25, 25] and shuffled != [25, 25, 25, 25, 20]
    small = to_training_data(table, preprocessor, chunk_rows=1000)
    assert small.x is not None and len(small.x) == 120


def test_schema_inference_on_a_large_table_sees_gaps_outside_its_sample(frame, tmp_path):
    frame = frame.assign(x1=frame["x1"].astype(float))
    frame.loc[119, "x1"] = np.nan  # one gap in the last chunk
    sample, nullable, rows = _profile(_saved(frame, tmp_path / "raw.parquet"))
    assert rows == 120 and {"x1", "x2", "colour"} <= nullable
    schema = infer_schema(sample.dropna(subset=["x1"]), "target", None, nullable)
    assert schema.nullable("x1")
