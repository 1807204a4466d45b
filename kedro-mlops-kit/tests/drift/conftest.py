"""Shared fixtures: a real tabular dataset (breast cancer), detectors fitted once per session,
a raw mixed-type table (text categories, dates, booleans, missing values, an identifier) with
its preprocessor, and a minimal Kedro project whose `drift` pipeline is wired from the plugin's
nodes.

Fitting is cheap but importing alibi-detect is not (~10 s), so the bundles are session-scoped.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from kedro_mlops_kit.drift.detector_nodes import fit_drift_detector
from kedro_mlops_kit.drift.detectors import DetectorBundle, fit_detector
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.schema import validate_frame
from tests.helpers import data_params, fit_preprocessor

# Small MMD budget keeps the suite fast; production defaults are exercised by the benchmark.
MMD_TEST_OPTIONS = {"n_permutations": 30, "max_reference_rows": 300, "max_batch_rows": 300}
CATEGORICAL = ["size_band"]

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def dataset() -> pd.DataFrame:
    """Breast cancer features, shuffled, plus an integer-coded categorical column."""
    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    # The file is ordered; shuffle so the reference/holdout split is exchangeable.
    frame = frame.sample(frac=1.0, random_state=42).reset_index(drop=True)
    frame["size_band"] = pd.qcut(frame["mean area"], 4, labels=False).astype("int64")
    return frame


@pytest.fixture(scope="session")
def feature_columns(dataset: pd.DataFrame) -> list[str]:
    return list(dataset.columns)


@pytest.fixture(scope="session")
def reference(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.iloc[:320].reset_index(drop=True)


@pytest.fixture(scope="session")
def holdout(dataset: pd.DataFrame) -> pd.DataFrame:
    """Unseen rows from the same population: must not be flagged as drift."""
    return dataset.iloc[320:].reset_index(drop=True)


def _fit(reference: pd.DataFrame, columns: list[str], kind: str) -> DetectorBundle:
    options = MMD_TEST_OPTIONS if kind == "mmd" else {}
    return fit_detector(reference, columns, CATEGORICAL, kind=kind, **options)


@pytest.fixture(scope="session", params=["ks", "tabular", "mmd"])
def bundle(request, reference, feature_columns) -> DetectorBundle:
    return _fit(reference, feature_columns, request.param)


@pytest.fixture(scope="session")
def ks_bundle(reference, feature_columns) -> DetectorBundle:
    return _fit(reference, feature_columns, "ks")


COLOURS = ("red", "green", "blue")
MIXED_FEATURES = ["x1", "visits", "x2", "colour", "day", "flag"]


def mixed_table(
    n: int, seed: int, colour_p=(0.5, 0.3, 0.2), x2_missing: float = 0.05
) -> pd.DataFrame:
    """Raw rows as a production system sends them: text, dates, booleans, gaps, an id."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{seed:02d}-{i:05d}" for i in range(n)],
            "x1": rng.normal(10.0, 2.0, n),
            "visits": rng.poisson(3.0, n),
            "x2": rng.normal(-5.0, 0.5, n),
            "colour": rng.choice(COLOURS, n, p=colour_p).astype(object),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "flag": rng.random(n) < 0.3,
        }
    )
    frame.loc[rng.random(n) < x2_missing, "x2"] = np.nan
    frame.loc[rng.random(n) < 0.05, "colour"] = None
    frame["target"] = np.where(frame["x1"] + (frame["colour"] == "blue") > 10.5, "yes", "no")
    return frame


@pytest.fixture(scope="session")
def mixed_reference() -> pd.DataFrame:
    """The raw mixed-type training table (600 rows)."""
    return mixed_table(600, seed=0)


@pytest.fixture(scope="session")
def mixed_preprocessor(mixed_reference) -> Preprocessor:
    return fit_preprocessor(mixed_reference, data_params("classification"))


def fit_mixed(reference: pd.DataFrame, preprocessor: Preprocessor, kind: str) -> DetectorBundle:
    """Fit as the drift_detector pipeline does: on the validated training split."""
    train_set = validate_frame(reference, preprocessor.schema)
    params = {
        "detector": kind,
        "p_val": 0.05,
        "max_reference_rows": 5000,
        "seed": 0,
        "options": MMD_TEST_OPTIONS if kind == "mmd" else {},
    }
    return fit_drift_detector(train_set, preprocessor, params)


@pytest.fixture(scope="session")
def mixed_ks_bundle(mixed_reference, mixed_preprocessor) -> DetectorBundle:
    return fit_mixed(mixed_reference, mixed_preprocessor, "ks")


# A Kedro project as small as the drift job needs: the catalog entries, parameters and pipeline
# of a generated project's drift job, nothing else (no package of a rendered project).
PROJECT_PACKAGE = "drift_fixture_project"
PROJECT_MODEL_NAME = "fixture_model"

_PYPROJECT = f"""\
[project]
name = "drift-fixture-project"
version = "0.1.0"

[tool.kedro]
package_name = "{PROJECT_PACKAGE}"
project_name = "drift-fixture-project"
kedro_init_version = "{metadata.version("kedro")}"
source_dir = "src"
"""

# kedro-mlflow is installed with the plugin and would register its hooks; the drift job logs to
# MLflow itself (and only for champions), so the fixture keeps kedro-mlflow out of the run.
_SETTINGS = """\
from importlib import metadata

DISABLE_HOOKS_FOR_PLUGINS = (metadata.distribution("kedro-mlflow").metadata["Name"],)
"""

_PIPELINE_REGISTRY = """\
from kedro.pipeline import Pipeline

from kedro_mlops_kit.drift.pipelines import create_drift_pipeline


def register_pipelines() -> dict[str, Pipeline]:
    drift = create_drift_pipeline()
    return {"drift": drift, "__default__": drift}
"""

_CATALOG = """\
production_batch:
  type: kedro_mlops_kit.drift.dataset.ProductionBatchDataset
  filepath: ${runtime_params:batch,data/08_reporting/batches/shifted.csv}

champion_drift_detector:
  type: kedro_mlops_kit.drift.dataset.ChampionDetectorDataset
  model_name: ${runtime_params:model_name,catalog_default_model}
  detector_dir: ${runtime_params:detector_dir,null}
  model_version: ${runtime_params:model_version,unknown}

drift_report:
  type: json.JSONDataset
  filepath: ${runtime_params:report_dir,data/08_reporting}/drift_report.json
  save_args: {indent: 2, allow_nan: false}

drift_report_plot:
  type: matplotlib.MatplotlibDataset
  filepath: ${runtime_params:report_dir,data/08_reporting}/drift_report.png
  save_args: {dpi: 90}

drift_report_summary:
  type: text.TextDataset
  filepath: ${runtime_params:report_dir,data/08_reporting}/drift_report.md
"""

_PARAMETERS = f"""\
drift:
  fail_on_drift: false
evaluation:
  model_name: {PROJECT_MODEL_NAME}
"""


def write_kedro_project(root: Path) -> Path:
    """Write the minimal drift project under ``root`` and return ``root``."""
    package = root / "src" / PROJECT_PACKAGE
    package.mkdir(parents=True)
    files = {
        root / "pyproject.toml": _PYPROJECT,
        package / "__init__.py": "",
        package / "settings.py": _SETTINGS,
        package / "pipeline_registry.py": _PIPELINE_REGISTRY,
        root / "conf" / "base" / "catalog.yml": _CATALOG,
        root / "conf" / "base" / "parameters.yml": _PARAMETERS,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "conf" / "local").mkdir()
    return root


@pytest.fixture(scope="module")
def kedro_project(tmp_path_factory):
    """The minimal drift project, bootstrapped, as the current directory, with its own MLflow."""
    from kedro.framework.startup import bootstrap_project

    path = write_kedro_project(tmp_path_factory.mktemp("project"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path / 'mlflow.db'}")
        # bootstrap_project prepends the source folder to both; undone after the module.
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        patch.setattr(sys, "path", list(sys.path))
        bootstrap_project(path)
        yield path
    for name in [m for m in sys.modules if m.partition(".")[0] == PROJECT_PACKAGE]:
        del sys.modules[name]
    importlib.invalidate_caches()
