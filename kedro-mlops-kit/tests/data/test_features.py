"""Feature preprocessing: the fitted ColumnTransformer, and its ONNX graph against it."""

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from kedro_mlops_kit.features import (
    DATETIME_PARTS,
    MISSING_CATEGORY,
    UNKNOWN_CATEGORY,
    build_transformer,
    datetime_parts,
    feature_names,
    kept_categories,
    to_wire,
    transform,
    wire_frame,
)
from kedro_mlops_kit.features_onnx import TRANSFORMED, transformer_onnx
from kedro_mlops_kit.schema import DataValidationError, infer_schema
from tests.helpers import make_classification_frame, table_schema

ALL_PARTS = {"max_categories": 50, "min_frequency": 1, "datetime_parts": list(DATETIME_PARTS)}


def _training_frame() -> pd.DataFrame:
    """The tiny table plus a boolean and some missing dates (so every step is built)."""
    frame = make_classification_frame()
    frame["flag"] = np.arange(len(frame)) % 3 == 0
    frame.loc[::19, "day"] = pd.NaT
    # Hours, so that the hour part varies.
    frame["day"] += pd.to_timedelta(np.arange(len(frame)) % 24, "h")
    return frame


def _fit(frame: pd.DataFrame, params=ALL_PARTS):
    schema = table_schema(frame)
    kinds = {c: schema.kinds[c] for c in schema.feature_columns}
    return build_transformer(frame, schema, params), kinds


def _onnx(transformer, kinds, rows: pd.DataFrame) -> np.ndarray:
    session = ort.InferenceSession(
        transformer_onnx(transformer, kinds).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    return session.run([TRANSFORMED], to_wire(rows, kinds))[0]


@pytest.fixture(scope="module")
def fitted():
    return _fit(_training_frame())


def _awkward_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x1": [np.nan, 1.0, 30.0, -4.5, 10.0, np.nan, 9.0, 11.0],
            "x2": [np.nan, np.nan, -5.0, 2.0, np.nan, -4.0, -5.5, 0.0],
            "colour": [
                "red",
                None,
                "purple",  # never seen
                'blue, "navy"',
                "rouge \u00e9 \u65e5\u672c",
                "",
                "Red",  # case matters: unseen
                " red",  # so does white space
            ],
            "day": pd.to_datetime(
                [
                    None,
                    "1950-03-04 05:00",
                    "2024-02-29 23:59:59",
                    None,
                    "2099-12-31 12:00",
                    "2024-06-01",
                    "1970-01-01",
                    "1969-12-31 23:00",
                ],
                format="ISO8601",
            ),
            "flag": [True, False, True, True, False, False, True, False],
        }
    )


def test_names_cover_every_step(fitted):
    transformer, _ = fitted
    names = feature_names(transformer)
    assert names == [
        "x1",
        "x2",
        "x2_missing",
        "flag",
        *[f"day_{part}" for part in DATETIME_PARTS],
        "day_missing",
        f"colour={UNKNOWN_CATEGORY}",
        f"colour={MISSING_CATEGORY}",
        "colour=blue",
        "colour=green",
        "colour=red",
    ]


def test_onnx_graph_equals_transform_on_awkward_rows(fitted):
    transformer, kinds = fitted
    rows = _awkward_rows()
    expected = transform(transformer, rows, kinds)
    got = _onnx(transformer, kinds, rows)
    assert got.shape == expected.shape == (len(rows), len(feature_names(transformer)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_onnx_graph_equals_transform_on_training_rows(fitted):
    transformer, kinds = fitted
    rows = _training_frame()
    np.testing.assert_allclose(
        _onnx(transformer, kinds, rows), transform(transformer, rows, kinds), rtol=1e-5, atol=1e-5
    )


def test_missing_and_unseen_values_land_in_their_own_columns(fitted):
    transformer, kinds = fitted
    names = feature_names(transformer)
    out = pd.DataFrame(transform(transformer, _awkward_rows(), kinds), columns=names)
    unknown, missing = f"colour={UNKNOWN_CATEGORY}", f"colour={MISSING_CATEGORY}"
    # red, None, purple, 'blue, "navy"', non-ASCII, "", Red, " red".
    assert out[unknown].tolist() == [0, 0, 1, 1, 1, 0, 1, 1]
    assert out[missing].tolist() == [0, 1, 0, 0, 0, 1, 0, 0]
    assert out["colour=red"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    one_hot = [n for n in names if n.startswith("colour=")]
    assert (out[one_hot].sum(axis=1) == 1).all(), "exactly one category column per row"
    assert out["x2_missing"].tolist() == [1, 1, 0, 0, 1, 0, 0, 0]
    assert out["day_missing"].tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    # A missing number takes the training median.
    imputed = out.loc[0, "x1"]
    median_row = transform(
        transformer,
        _awkward_rows().iloc[:1].assign(x1=_training_frame()["x1"].median()),
        kinds,
    )
    assert imputed == pytest.approx(median_row[0, 0], abs=1e-6)


def test_wire_form_per_kind():
    rows = _awkward_rows()
    wire = to_wire(
        rows, {"x1": "numeric", "colour": "categorical", "day": "datetime", "flag": "boolean"}
    )
    assert wire["x1"].dtype == np.float32 and wire["x1"].shape == (8, 1)
    assert np.isnan(wire["x1"][0, 0])
    assert wire["colour"].dtype == object
    assert wire["colour"][:, 0].tolist()[:2] == ["red", ""]
    assert wire["colour"][4, 0] == "rouge \u00e9 \u65e5\u672c"
    assert wire["day"].dtype == np.float64
    assert wire["day"][6, 0] == 0.0
    assert wire["day"][7, 0] == -3600.0
    assert np.isnan(wire["day"][0, 0])
    assert wire["flag"].dtype == np.bool_


def test_wire_form_refuses_what_a_kind_cannot_carry():
    with pytest.raises(
        DataValidationError, match=r"column 'x1' \(numeric\) cannot be read as FP32"
    ):
        to_wire(pd.DataFrame({"x1": ["1.5", "abc"]}), {"x1": "numeric"})
    with pytest.raises(DataValidationError, match=r"'flag' \(boolean\) cannot be read as BOOL"):
        to_wire(pd.DataFrame({"flag": [True, None]}), {"flag": "boolean"})
    with pytest.raises(DataValidationError, match=r"column 'day' is missing"):
        to_wire(pd.DataFrame({"x1": [1.0]}), {"day": "datetime"})


def _random_timestamps(n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    low = pd.Timestamp("1900-01-01").value // 10**9
    high = pd.Timestamp("2100-12-31 23:59:59").value // 10**9
    seconds = rng.integers(low, high, n)
    edges = pd.to_datetime(
        [
            "1900-01-01 00:00:00",
            "1900-02-28 23:59:59",
            "1900-03-01",  # 1900 is not a leap year
            "1969-12-31 23:59:59",
            "1970-01-01 00:00:00",
            "2000-02-29 12:00",  # 2000 is
            "2024-02-29 23:59:59",
            "2100-02-28 23:59:59",
            "2100-03-01 00:00:00",
            "2100-12-31 23:59:59",
        ],
        format="ISO8601",
    )
    stamps = pd.to_datetime(seconds, unit="s").append(edges)
    # Sub-second parts do not change any calendar part.
    return pd.Series(stamps + pd.to_timedelta(rng.integers(0, 10**9, len(stamps)), "ns"))


def _pandas_parts(stamps: pd.Series) -> np.ndarray:
    return np.stack([getattr(stamps.dt, part).to_numpy() for part in DATETIME_PARTS], axis=1)


def test_datetime_parts_agree_with_pandas_from_1900_to_2100():
    stamps = _random_timestamps(20_000, seed=0)
    seconds = to_wire(pd.DataFrame({"day": stamps}), {"day": "datetime"})["day"][:, 0]
    parts = datetime_parts(seconds, DATETIME_PARTS)
    np.testing.assert_array_equal(parts, _pandas_parts(stamps).astype(np.float64))
    assert np.isnan(datetime_parts(np.array([np.nan]), DATETIME_PARTS)).all()


def test_onnx_datetime_parts_agree_with_pandas_from_1900_to_2100():
    stamps = _random_timestamps(5_000, seed=1)
    frame = pd.DataFrame({"day": stamps, "target": ["a", "b"] * (len(stamps) // 2)})
    transformer, kinds = _fit(frame)
    # Unscaled parts: the graph then returns the calendar parts themselves.
    parts = transformer.named_transformers_["datetime"]
    parts.mean_ = np.zeros_like(parts.mean_)
    parts.scale_ = np.ones_like(parts.scale_)
    got = _onnx(transformer, kinds, frame)
    np.testing.assert_array_equal(got, _pandas_parts(stamps).astype(np.float32))
    np.testing.assert_array_equal(transform(transformer, frame, kinds), got)


def test_a_subset_of_parts_in_the_configured_order():
    stamps = _random_timestamps(50, seed=2)
    seconds = to_wire(pd.DataFrame({"d": stamps}), {"d": "datetime"})["d"][:, 0]
    parts = datetime_parts(seconds, ["hour", "year"])
    np.testing.assert_array_equal(parts[:, 0], stamps.dt.hour.to_numpy())
    np.testing.assert_array_equal(parts[:, 1], stamps.dt.year.to_numpy())


def test_unknown_datetime_parts_are_refused():
    frame = _training_frame()
    with pytest.raises(DataValidationError, match=r"datetime_parts must be a non-empty subset"):
        _fit(frame, {**ALL_PARTS, "datetime_parts": ["week"]})


def test_kept_categories_cap_by_count_and_frequency():
    values = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 4 + ["d"] * 2 + ["e"] + [""] * 3)
    assert kept_categories(values, 50, 1) == sorted([MISSING_CATEGORY, "a", "b", "c", "d", "e"])
    assert kept_categories(values, 50, 3) == sorted([MISSING_CATEGORY, "a", "b", "c"])
    # Ties (b and c) are broken by value, so the same data always keeps the same categories.
    assert kept_categories(values, 2, 1) == ["a", "b"]
    assert kept_categories(values, 3, 1) == sorted(["a", "b", "c"])


def test_rare_categories_share_the_unknown_column():
    frame = make_classification_frame()
    # 'green' and 'blue' stay frequent; a handful of rare shades appear once or twice.
    frame.loc[[0, 1], "colour"] = "teal"
    frame.loc[[2], "colour"] = "mauve"
    for params, kept in [
        ({"max_categories": 50, "min_frequency": 3}, ["__missing__", "blue", "green", "red"]),
        ({"max_categories": 2, "min_frequency": 1}, None),
    ]:
        transformer, kinds = _fit(frame, params)
        names = feature_names(transformer)
        colour_columns = [n for n in names if n.startswith("colour=")]
        if kept is not None:
            assert colour_columns == [f"colour={c}" for c in [UNKNOWN_CATEGORY, *kept]]
        else:
            assert len(colour_columns) == 3
        out = pd.DataFrame(transform(transformer, frame, kinds), columns=names)
        rare = frame["colour"].isin(["teal", "mauve"])
        assert (out.loc[rare, f"colour={UNKNOWN_CATEGORY}"] == 1).all()
        np.testing.assert_allclose(
            _onnx(transformer, kinds, frame), out.to_numpy(), rtol=1e-5, atol=1e-5
        )


def test_booleans_become_zero_and_one():
    frame = pd.DataFrame(
        {"flag": [True, False, True, True], "x": [1.0, 2.0, 3.0, 4.0], "target": [0, 1, 0, 1]}
    )
    schema = infer_schema(frame, "target")
    assert schema.kinds["flag"] == "boolean"
    transformer, kinds = _fit(frame, {})
    out = transform(transformer, frame, kinds)
    flag = feature_names(transformer).index("flag")
    assert out[:, flag].tolist() == [1.0, 0.0, 1.0, 1.0]
    np.testing.assert_allclose(_onnx(transformer, kinds, frame), out, rtol=1e-6, atol=1e-6)


def test_wire_frame_is_what_the_transformer_is_fitted_on(fitted):
    transformer, kinds = fitted
    wire = wire_frame(_training_frame(), kinds)
    assert list(wire.columns) == list(kinds)
    assert transformer.transform(wire).shape[1] == len(feature_names(transformer))


def test_a_schema_without_features_is_refused():
    frame = pd.DataFrame({"id": [f"id{i}" for i in range(30)], "target": [0, 1] * 15})
    schema = infer_schema(frame, "target")
    assert schema.kinds["id"] == "identifier"
    with pytest.raises(DataValidationError, match=r"no feature columns"):
        build_transformer(frame, schema, {})
