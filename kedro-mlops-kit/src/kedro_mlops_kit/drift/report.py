"""Turn a detector run into a JSON report, a PNG plot and a markdown summary.

The JSON report is the contract with downstream automation (the retrain trigger reads
``is_drift`` and ``drifted_features``); the PNG and markdown are for people.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kedro_mlops_kit.drift.detectors import DetectionResult, DetectorBundle, detect
from kedro_mlops_kit.drift.ranking import severity_order
from kedro_mlops_kit.drift.schema import ValidatedBatch, validate_raw_batch
from kedro_mlops_kit.drift.univariate import univariate_tests

__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "REPORT_VERSION",
    "ReportPaths",
    "build_report",
    "run_drift_check",
    "write_report",
]

REPORT_VERSION = 1
DEFAULT_OUTPUT_DIR = Path("data/08_reporting")
_BASENAME = "drift_report"


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` put its three files."""

    json: Path
    png: Path
    markdown: Path


def _number(value: float) -> float | None:
    """Float for JSON, or ``None`` where the value is NaN/inf (strict JSON has neither)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _per_feature(
    bundle: DetectorBundle,
    validated: ValidatedBatch,
    p_values: np.ndarray,
    statistics: np.ndarray,
    threshold: float,
) -> dict[str, dict[str, Any]]:
    frame = validated.frame
    categorical = set(bundle.categorical_columns)
    encoding = bundle.encoding
    features: dict[str, dict[str, Any]] = {}
    for i, column in enumerate(bundle.feature_columns):
        reference = bundle.reference_stats[column]
        # Numeric-only bundles with ks apply KS to every column (codes included); raw-table
        # bundles, tabular and the mmd diagnostics use chi-squared for categorical columns.
        chi2 = column in categorical and (bundle.kind != "ks" or encoding is not None)
        features[column] = {
            "type": encoding.kinds[column]
            if encoding
            else ("categorical" if column in categorical else "numeric"),
            "test": "chi2" if chi2 else "ks",
            "statistic": _number(statistics[i]),
            "p_value": _number(p_values[i]),
            "is_drift": bool(p_values[i] < threshold),
            "reference_mean": _number(reference["mean"]),
            "reference_std": _number(reference["std"]),
            "batch_mean": _number(frame[column].mean()),
            "batch_std": _number(frame[column].std()),
        }
        if encoding is not None:
            features[column]["missing_rate_reference"] = encoding.missing_rates[column]
            features[column]["missing_rate_batch"] = validated.missing_rates.get(column, 0.0)
            features[column]["missing_rate_change"] = (
                validated.missing_rates.get(column, 0.0) - encoding.missing_rates[column]
            )
            if column in categorical:
                features[column]["unseen_category_share"] = validated.unseen_share.get(column, 0.0)
    return features


def build_report(
    bundle: DetectorBundle,
    validated: ValidatedBatch,
    result: DetectionResult,
    model_version: str,
) -> dict[str, Any]:
    """Assemble the JSON-serialisable drift report.

    For ``mmd`` the verdict is the multivariate permutation test; the per-feature entries are
    univariate diagnostics (Bonferroni-corrected KS/chi2 against the stored reference sample)
    flagged with ``"diagnostic": true`` and never change ``is_drift``.
    """
    frame = validated.frame
    n_features = len(bundle.feature_columns)
    mmd: dict[str, Any] | None = None
    if bundle.kind == "mmd":
        p_values, statistics = univariate_tests(
            bundle.reference_sample, frame, bundle.feature_columns, bundle.categorical_columns
        )
        feature_threshold = bundle.p_val / n_features
        correction = "permutation-test"
        mmd = {
            "distance": _number(result.mmd_distance),
            "p_value": _number(result.mmd_p_value),
            "distance_threshold": _number(result.mmd_distance_threshold),
            "n_permutations": bundle.options["n_permutations"],
            "diagnostic_correction": "bonferroni",
            "diagnostic_threshold": feature_threshold,
        }
    else:
        p_values, statistics = result.p_values, result.statistics
        feature_threshold = result.threshold
        correction = bundle.options["correction"]

    features = _per_feature(bundle, validated, p_values, statistics, feature_threshold)
    if mmd is not None:
        for entry in features.values():
            entry["diagnostic"] = True
    drifted = [name for name in severity_order(features) if features[name]["is_drift"]]

    return {
        "report_version": REPORT_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "is_drift": bool(result.is_drift),
        "detector": bundle.kind,
        "model_version": str(model_version),
        "thresholds": {
            "p_val": bundle.p_val,
            "correction": correction,
            "threshold": _number(result.threshold),
        },
        "n_reference": bundle.n_reference,
        "n_reference_used": bundle.n_reference_used,
        "n_batch": len(frame),
        "n_batch_used": result.n_batch_used,
        "extra_columns_ignored": list(validated.extra_columns),
        "mmd": mmd,
        "features": features,
        "drifted_features": drifted,
    }


def run_drift_check(
    bundle: DetectorBundle, batch: pd.DataFrame, model_version: str = "unknown"
) -> tuple[dict[str, Any], ValidatedBatch]:
    """Validate ``batch``, run the detector and build the report.

    Raises:
        SchemaError: The batch does not match the bundle's feature schema.
    """
    validated = validate_raw_batch(batch, bundle)
    result = detect(bundle, validated.frame)
    return build_report(bundle, validated, result, model_version), validated


def write_report(
    report: dict[str, Any],
    bundle: DetectorBundle,
    batch: pd.DataFrame,
    output_dir: str | Path = DEFAULT_OUTPUT_DIR,
) -> ReportPaths:
    """Write ``drift_report.json``, ``drift_report.png`` and ``drift_report.md`` to a folder.

    Args:
        report: Output of :func:`build_report`.
        bundle: The bundle the report was made with (its reference sample feeds the plot).
        batch: The validated batch frame (feature columns only).
        output_dir: Target folder, created if needed.
    """
    # Imported here: matplotlib adds ~1 s and is not needed to build the JSON report.
    from kedro_mlops_kit.drift.plotting import plot_drift
    from kedro_mlops_kit.drift.summary import render_markdown

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        json=output_dir / f"{_BASENAME}.json",
        png=output_dir / f"{_BASENAME}.png",
        markdown=output_dir / f"{_BASENAME}.md",
    )
    # allow_nan=False: NaN is not JSON, and non-finite values were already mapped to null.
    paths.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    plot_drift(report, bundle.reference_sample, batch, bundle.categorical_columns, paths.png)
    paths.markdown.write_text(render_markdown(report), encoding="utf-8")
    return paths
