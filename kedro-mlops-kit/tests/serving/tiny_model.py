"""A tiny real model (``ServingModule`` + fitted ``Preprocessor``) with awkward names on purpose.

Column names and class labels hold commas, double quotes, spaces and non-ASCII characters, and
text values hold commas, quotes, accents and empty strings: they must survive export ->
model.onnx (one input per raw column, named by it) -> Triton -> client -> predict output
unchanged. The table mixes every wire type: FP32 numbers (one with NaN), an FP64 datetime (with
missing dates), a BOOL flag and BYTES text (with missing values).

A plain module (not ``conftest``): registered models pickle its network class by value, so any
process (``mlflow models serve``, another cwd) can load them without importing the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from kedro_mlops_kit.preprocessor import Preprocessor, fit_preprocessor
from kedro_mlops_kit.schema import TableSchema, infer_schema
from kedro_mlops_kit.serving_model import ServingModule

AGE = "age, years"  # comma and space
SCORE = "scoré"  # non-ASCII; numeric with NaN
TENURE = 'the "tenure"'  # double quotes; whole numbers (integer kind)
COLOUR = "colour name"  # space; text categorical with missing values
SIGNUP = "signup, day"  # datetime (FP64 seconds) with missing dates
MEMBER = "is member?"  # boolean
TARGET = "label, final"
FEATURES = [AGE, SCORE, TENURE, COLOUR, SIGNUP, MEMBER]
# Sorted, as the preprocessor orders them: output column i is LABELS[i].
LABELS = ["a,b", "café", "no"]
COLOURS = ["red, dark", 'say "hi"', "bleu é", "green"]
WIRE_TYPES = {
    AGE: "FP32",
    SCORE: "FP32",
    TENURE: "FP32",
    COLOUR: "BYTES",
    SIGNUP: "FP64",
    MEMBER: "BOOL",
}
DATA_PARAMS = {
    "task": "classification",
    "target": TARGET,
    "features": {
        "max_categories": 10,
        "min_frequency": 1,
        "datetime_parts": ["month", "dayofweek"],
    },
}


def raw_table(n: int = 160, seed: int = 0) -> pd.DataFrame:
    """Raw rows as a file would hold them (target included), in a deliberately odd column order."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            MEMBER: rng.random(n) < 0.4,
            COLOUR: rng.choice(COLOURS, n).astype(object),
            AGE: rng.normal(40.0, 12.0, n),
            SIGNUP: pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            SCORE: rng.uniform(0.0, 1.0, n),
            TENURE: rng.integers(0, 10, n).astype(float),
        }
    )
    frame.loc[::7, SCORE] = np.nan
    frame.loc[::9, COLOUR] = None
    frame.loc[::11, SIGNUP] = pd.NaT
    score = (frame[AGE] - 40.0) / 12.0 + frame[SCORE].fillna(0.5) - 0.5
    score = score + np.where(frame[COLOUR] == "green", 1.0, 0.0)
    frame[TARGET] = np.select([score > 0.4, score < -0.4], ["a,b", "no"], "café")
    return frame


def table_schema(frame: pd.DataFrame) -> TableSchema:
    """The schema ``make schema`` would infer (through its YAML round trip)."""
    return TableSchema.from_yaml(infer_schema(frame, TARGET).to_yaml())


def fitted_preprocessor(task: str = "classification") -> Preprocessor:
    """The preprocessing fitted on the training table, as the data_processing node does."""
    train = raw_table()
    if task == "regression":
        train[TARGET] = 3.0 * train[AGE] + 10.0 * train[SCORE].fillna(0.5)
    return fit_preprocessor(train, table_schema(train), {**DATA_PARAMS, "task": task})


class TinyNet(torch.nn.Module):
    """The team's network: preprocessed float32 matrix in, raw scores out."""

    def __init__(self, n_inputs: int, n_outputs: int, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_inputs, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_outputs)
        )
        with torch.no_grad():  # larger weights: probabilities far from uniform
            for layer in (self.body[0], self.body[2]):
                layer.weight.mul_(3.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def tiny_model(seed: int, task: str = "classification") -> ServingModule:
    """A ``ServingModule`` whose network weights depend on ``seed`` (one per registry version)."""
    preprocessor = fitted_preprocessor(task)
    network = TinyNet(preprocessor.n_inputs, preprocessor.n_outputs, seed)
    return ServingModule(network, preprocessor).eval()


def holdout_rows(n: int = 48, seed: int = 42) -> pd.DataFrame:
    """Held-out raw rows (no target), with the missing values the schema allows."""
    return raw_table(n, seed).drop(columns=[TARGET]).reset_index(drop=True)


def awkward_rows() -> pd.DataFrame:
    """Rows a production client sends: missing numbers, dates and text, an unseen category,
    text with commas, quotes, accents and the empty string; an extra column to ignore."""
    rows = holdout_rows(8, seed=7)
    rows[COLOUR] = pd.Series(
        [None, "purple", 'say "hi"', "red, dark", "bleu é", "", 'ünïcödé, "q"', "green"],
        dtype=object,
    )
    rows.loc[[0, 3], SCORE] = np.nan
    rows.loc[[1, 5], SIGNUP] = pd.NaT
    rows.loc[2, AGE] = 95.5  # outside the training range
    rows["not a feature"] = "ignored"
    return rows
