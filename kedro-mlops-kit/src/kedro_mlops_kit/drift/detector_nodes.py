"""Nodes that fit the drift detector on training data and attach it to the registered model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow import MlflowClient

from kedro_mlops_kit.drift.detectors import DetectorBundle, fit_detector
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.table import Table, sample_rows

logger = logging.getLogger(__name__)

DETECTOR_ARTIFACT_PATH = "drift_detector"


def fit_drift_detector(
    train_set: pd.DataFrame | Table, preprocessor: Preprocessor, params: dict[str, Any]
) -> DetectorBundle:
    """Fit the configured detector on a reference sample of the raw training features.

    The reference is the training split itself (what the model learned from), so drift means
    "production no longer looks like what this model was trained on". Categorical columns get
    a chi-squared test over the reference's categories plus an "unseen" one; numeric, integer,
    boolean and datetime columns KS (or, with ``detector: mmd``, one multivariate test).
    """
    # A DataFrame, or a Table read once for its sample (about max_reference_rows rows).
    reference = sample_rows(train_set, params["max_reference_rows"], seed=params["seed"])
    return fit_detector(
        reference,
        preprocessor.feature_columns,
        kind=params["detector"],
        p_val=params["p_val"],
        kinds=preprocessor.kinds,
        schema_yaml=preprocessor.schema.pandera.to_yaml(),
        **params.get("options", {}),
    )


def log_drift_detector(
    drift_detector: DetectorBundle, promotion_record: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Log the saved detector into the model's own MLflow run and tag the model version with it.

    The drift job later downloads the detector of the current `champion`, so detector and
    served model always belong together.
    """
    client = MlflowClient()
    name, version = promotion_record["model_name"], str(promotion_record["version"])
    client.log_artifacts(
        promotion_record["run_id"], str(Path(params["detector_dir"])), DETECTOR_ARTIFACT_PATH
    )
    client.set_model_version_tag(name, version, "drift_detector", drift_detector.kind)
    logger.info("Logged the %s drift detector with %s v%s", drift_detector.kind, name, version)
    return {"model_name": name, "version": version, "detector": drift_detector.kind}
