"""Fit, run, save and load alibi-detect drift detectors on raw feature DataFrames.

A *bundle* is the detector plus everything needed to use it on a raw production batch: the
feature schema, the encoder (MMD only), reference statistics and a bounded reference sample for
plots. On disk a bundle is a folder::

    bundle/
      detector/            alibi-detect's own save_detector() output (config.toml + x_ref.npy)
      bundle.json          schema, kind, options, reference statistics, encoder
      reference_sample.parquet   at most REFERENCE_SAMPLE_ROWS raw reference rows (for plots)

alibi-detect is imported lazily: importing it costs 7-15 s (torch + torch.jit.script at import),
which schema checks, ``--help`` and the retrain trigger should not pay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kedro_mlops_kit.drift.encoding import DriftEncoding, FeatureEncoder
from kedro_mlops_kit.drift.schema import validate_batch

__all__ = [
    "DEFAULT_OPTIONS",
    "KINDS",
    "REFERENCE_SAMPLE_ROWS",
    "DetectionResult",
    "DetectorBundle",
    "detect",
    "fit_detector",
    "load_detector_bundle",
    "save_detector_bundle",
    "subsample",
]

DetectorKind = Literal["ks", "mmd", "tabular"]
KINDS: tuple[str, ...] = ("ks", "mmd", "tabular")

# MMD's permutation test is O(n_permutations * (n_ref + n_batch)^2) in time and
# O((n_ref + n_batch)^2) in memory, so both sample sizes are capped. 1,000 + 1,000 rows with
# 100 permutations took 2-9 s on 2 shared CPU cores, whatever the batch size. 100 permutations
# resolve p-values to 0.01, enough for p_val=0.05; fewer make the p-value too coarse.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "ks": {"correction": "bonferroni", "max_reference_rows": None, "seed": 0},
    "tabular": {"correction": "bonferroni", "max_reference_rows": None, "seed": 0},
    "mmd": {
        "max_reference_rows": 1000,
        "max_batch_rows": 1000,
        "n_permutations": 100,
        "seed": 0,
    },
}
_CORRECTIONS = ("bonferroni", "fdr")
REFERENCE_SAMPLE_ROWS = 5000
_BUNDLE_JSON = "bundle.json"
_DETECTOR_DIR = "detector"
_REFERENCE_SAMPLE = "reference_sample.parquet"
_BUNDLE_FORMAT_VERSION = 1


@dataclass
class DetectorBundle:
    """A fitted detector together with the schema and reference data it was fitted on."""

    detector: Any
    kind: str
    feature_columns: list[str]
    categorical_columns: list[str]
    dtypes: dict[str, str]
    p_val: float
    options: dict[str, Any]
    n_reference: int
    n_reference_used: int
    reference_stats: dict[str, dict[str, float]]
    reference_sample: pd.DataFrame
    encoder: FeatureEncoder | None = None
    # Raw mixed-type columns -> numbers (bundles fitted on raw tables; None: numeric features).
    encoding: DriftEncoding | None = None
    # The model's table schema (pandera YAML): batches are checked against it.
    schema_yaml: str = ""


@dataclass(frozen=True)
class DetectionResult:
    """Raw outcome of one detector run, before it is turned into a report.

    ``p_values``/``statistics`` are per feature for ks and tabular, ``None`` for mmd, which
    instead fills ``mmd_distance``/``mmd_p_value``/``mmd_distance_threshold``.
    """

    is_drift: bool
    threshold: float
    n_batch_used: int
    p_values: np.ndarray | None = None
    statistics: np.ndarray | None = None
    mmd_distance: float | None = None
    mmd_p_value: float | None = None
    mmd_distance_threshold: float | None = None


def _resolve_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"Unknown detector kind {kind!r}; expected one of {list(KINDS)}")
    resolved = dict(DEFAULT_OPTIONS[kind])
    unknown = sorted(set(options) - set(resolved))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {unknown} for detector {kind!r}; allowed: {sorted(resolved)}"
        )
    resolved.update(options)
    if "correction" in resolved and resolved["correction"] not in _CORRECTIONS:
        raise ValueError(
            f"correction must be one of {list(_CORRECTIONS)}, got {resolved['correction']!r}"
        )
    for key in ("max_reference_rows", "max_batch_rows", "n_permutations"):
        value = resolved.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{key} must be a positive integer or None, got {value!r}")
    return resolved


def subsample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """Return at most ``max_rows`` rows drawn without replacement, reproducibly from ``seed``.

    Row order is preserved so the result does not depend on anything but ``seed``.
    """
    if max_rows is None or len(frame) <= max_rows:
        return frame
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[index].reset_index(drop=True)


def _category_lists(
    reference: pd.DataFrame,
    feature_columns: Sequence[str],
    categorical_columns: Sequence[str],
    encoding: DriftEncoding | None = None,
) -> dict[int, list[int]]:
    """Categories per categorical column index, taken from the *full* reference.

    They are listed explicitly (instead of alibi-detect's ``{idx: None}`` inference) so that a
    reference subsample cannot drop a rare category, and because alibi-detect's config schema
    only accepts integer category lists.
    """
    if encoding is not None:
        # Codes of the rows the detector keeps: TabularDrift adds the batch's other codes
        # (unseen categories) itself, and a listed code absent from both would make the
        # chi-squared table singular.
        return {
            list(feature_columns).index(c): sorted(int(v) for v in np.unique(reference[c]))
            for c in categorical_columns
        }
    categories: dict[int, list[int]] = {}
    for column in categorical_columns:
        values = np.unique(reference[column].to_numpy())
        if not np.all(np.equal(np.mod(values, 1), 0)):
            raise ValueError(f"Categorical column {column!r} must be integer-coded")
        categories[list(feature_columns).index(column)] = [int(v) for v in values]
    return categories


def _reference_stats(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {
        str(column): {"mean": float(frame[column].mean()), "std": float(frame[column].std())}
        for column in frame.columns
    }


def fit_detector(
    reference: pd.DataFrame,
    feature_columns: Sequence[str],
    categorical_columns: Sequence[str] = (),
    kind: DetectorKind = "ks",
    p_val: float = 0.05,
    *,
    kinds: Mapping[str, str] | None = None,
    schema_yaml: str = "",
    **options: Any,
) -> DetectorBundle:
    """Fit a drift detector on the raw reference (training) features.

    Args:
        reference: Training rows; only ``feature_columns`` are used.
        feature_columns: Feature columns in model order.
        categorical_columns: Subset of ``feature_columns`` holding integer-coded categories
            (ignored with ``kinds``, which names the categorical columns).
        kind: ``"ks"`` (per-feature Kolmogorov-Smirnov with multiple-testing correction;
            categorical columns get a chi-squared test), ``"mmd"`` (multivariate MMD
            permutation test, pytorch backend, on standardised / one-hot features) or
            ``"tabular"`` (KS for numeric, chi-squared for categorical).
        kinds: The schema kind of each feature column, for raw mixed-type rows (text
            categories, dates, missing values): they are encoded with a
            :class:`~kedro_mlops_kit.drift.encoding.DriftEncoding` fitted here.
        schema_yaml: The table schema, stored so that batches are checked against it.
        p_val: Significance level (the q-value for ``correction="fdr"``).
        **options: Per-kind options; see ``DEFAULT_OPTIONS``. ``correction`` ("bonferroni" or
            "fdr") for ks/tabular; ``max_reference_rows``, ``max_batch_rows``,
            ``n_permutations`` and ``seed`` bound the cost of mmd.

    Returns:
        A :class:`DetectorBundle` ready for :func:`detect` and :func:`save_detector_bundle`.
    """
    resolved = _resolve_options(kind, options)
    if not 0.0 < p_val < 1.0:
        raise ValueError(f"p_val must be in (0, 1), got {p_val}")
    feature_columns = [str(c) for c in feature_columns]
    categorical_columns = [str(c) for c in categorical_columns]
    unknown_categorical = sorted(set(categorical_columns) - set(feature_columns))
    if unknown_categorical:
        raise ValueError(f"Categorical column(s) {unknown_categorical} are not feature columns")
    encoding = None
    if kinds is not None and not schema_yaml:
        raise ValueError(
            "fit_detector(kinds=...) needs schema_yaml (the table schema batches are checked "
            "against): pass TableSchema.pandera.to_yaml()"
        )
    if kinds is not None:
        encoding = DriftEncoding.fit(reference, {c: kinds[c] for c in feature_columns})
        categorical_columns = encoding.categorical_columns
        reference = encoding.encode(reference)
    # The reference must satisfy the same contract the production batches will be held to.
    frame = validate_batch(reference, feature_columns).frame

    used = subsample(frame, resolved.get("max_reference_rows"), resolved["seed"])
    encoder = None
    if kind == "mmd":
        from alibi_detect.cd import MMDDrift

        encoder = FeatureEncoder.fit(frame, feature_columns, categorical_columns)
        detector = MMDDrift(
            encoder.transform(used),
            backend="pytorch",
            p_val=p_val,
            n_permutations=resolved["n_permutations"],
            # Explicit CPU: "None" makes alibi-detect log a "No GPU detected" warning per call.
            device="cpu",
        )
    elif kind == "ks" and not categorical_columns:
        from alibi_detect.cd import KSDrift

        detector = KSDrift(
            used.to_numpy(dtype=np.float32), p_val=p_val, correction=resolved["correction"]
        )
    else:
        from alibi_detect.cd import TabularDrift

        detector = TabularDrift(
            used.to_numpy(dtype=np.float32),
            p_val=p_val,
            categories_per_feature=_category_lists(
                used if encoding is not None else frame,
                feature_columns,
                categorical_columns,
                encoding,
            ),
            correction=resolved["correction"],
        )

    return DetectorBundle(
        detector=detector,
        kind=kind,
        feature_columns=feature_columns,
        categorical_columns=categorical_columns,
        dtypes={c: str(frame[c].dtype) for c in feature_columns},
        p_val=float(p_val),
        options=resolved,
        n_reference=len(frame),
        n_reference_used=len(used),
        reference_stats=_reference_stats(frame),
        reference_sample=subsample(frame, REFERENCE_SAMPLE_ROWS, resolved["seed"]),
        encoder=encoder,
        encoding=encoding,
        schema_yaml=schema_yaml,
    )


def detect(bundle: DetectorBundle, frame: pd.DataFrame) -> DetectionResult:
    """Run the bundle's detector on an already validated batch (feature columns only).

    The MMD permutation test draws its permutations from torch's global RNG; it is seeded from
    the bundle's ``seed`` inside a forked RNG state so results are reproducible without
    changing the caller's random state.
    """
    if bundle.kind == "mmd":
        import torch

        used = subsample(frame, bundle.options["max_batch_rows"], bundle.options["seed"])
        encoded = bundle.encoder.transform(used)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(bundle.options["seed"])
            data = bundle.detector.predict(encoded)["data"]
        return DetectionResult(
            is_drift=bool(data["is_drift"]),
            threshold=float(data["threshold"]),
            n_batch_used=len(used),
            mmd_distance=float(data["distance"]),
            mmd_p_value=float(data["p_val"]),
            mmd_distance_threshold=float(data["distance_threshold"]),
        )

    data = bundle.detector.predict(frame.to_numpy(dtype=np.float32), drift_type="batch")["data"]
    threshold = np.asarray(data["threshold"], dtype=np.float64)
    # alibi-detect's FDR returns the whole array of Benjamini-Hochberg step thresholds when
    # nothing is significant; the binding one is then the smallest (q / n_features).
    used_threshold = float(threshold) if threshold.ndim == 0 else float(threshold.min())
    return DetectionResult(
        is_drift=bool(data["is_drift"]),
        threshold=used_threshold,
        n_batch_used=len(frame),
        p_values=np.asarray(data["p_val"], dtype=np.float64),
        statistics=np.asarray(data["distance"], dtype=np.float64),
    )


def save_detector_bundle(bundle: DetectorBundle, path: str | Path) -> Path:
    """Write ``bundle`` to folder ``path`` (created if needed) and return the folder."""
    from alibi_detect.saving import save_detector

    path = Path(path)
    detector_dir = path / _DETECTOR_DIR
    # Created up front: alibi-detect logs a warning whenever it has to create the folder itself.
    detector_dir.mkdir(parents=True, exist_ok=True)
    save_detector(bundle.detector, detector_dir)
    bundle.reference_sample.to_parquet(path / _REFERENCE_SAMPLE, index=False)
    metadata = {
        "format_version": _BUNDLE_FORMAT_VERSION,
        "kind": bundle.kind,
        "feature_columns": bundle.feature_columns,
        "categorical_columns": bundle.categorical_columns,
        "dtypes": bundle.dtypes,
        "p_val": bundle.p_val,
        "options": bundle.options,
        "n_reference": bundle.n_reference,
        "n_reference_used": bundle.n_reference_used,
        "reference_stats": bundle.reference_stats,
        "encoder": bundle.encoder.to_dict() if bundle.encoder else None,
        "encoding": bundle.encoding.to_dict() if bundle.encoding else None,
        "schema": bundle.schema_yaml,
    }
    (path / _BUNDLE_JSON).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return path


def load_detector_bundle(path: str | Path) -> DetectorBundle:
    """Load a bundle written by :func:`save_detector_bundle`.

    Raises:
        FileNotFoundError: ``path`` is not a bundle folder.
        ValueError: The bundle was written by an incompatible format version.
    """
    path = Path(path)
    metadata_file = path / _BUNDLE_JSON
    if not metadata_file.is_file():
        raise FileNotFoundError(
            f"No drift detector bundle at {str(path)!r} ({_BUNDLE_JSON} is absent)"
        )
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    if metadata.get("format_version") != _BUNDLE_FORMAT_VERSION:
        raise ValueError(
            f"Unsupported bundle format_version {metadata.get('format_version')!r} at {str(path)!r}"
        )

    from alibi_detect.saving import load_detector

    # device="cpu" is part of the saved MMD config, so loading does not probe for a GPU.
    detector = load_detector(path / _DETECTOR_DIR)
    encoder = FeatureEncoder.from_dict(metadata["encoder"]) if metadata["encoder"] else None
    return DetectorBundle(
        detector=detector,
        kind=metadata["kind"],
        feature_columns=list(metadata["feature_columns"]),
        categorical_columns=list(metadata["categorical_columns"]),
        dtypes=dict(metadata["dtypes"]),
        p_val=float(metadata["p_val"]),
        options=dict(metadata["options"]),
        n_reference=int(metadata["n_reference"]),
        n_reference_used=int(metadata["n_reference_used"]),
        reference_stats=metadata["reference_stats"],
        reference_sample=pd.read_parquet(path / _REFERENCE_SAMPLE),
        encoder=encoder,
        encoding=DriftEncoding.from_dict(metadata["encoding"])
        if metadata.get("encoding")
        else None,
        schema_yaml=metadata.get("schema", ""),
    )
