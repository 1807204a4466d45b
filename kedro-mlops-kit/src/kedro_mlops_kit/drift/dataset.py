"""Kedro datasets of the drift pipelines: detector bundles, production batches, champions.

- ``DriftDetectorDataset``: the bundle the drift_detector pipeline fits and saves.
- ``ProductionBatchDataset``: a production batch (CSV or Parquet) for the drift job.
- ``ChampionDetectorDataset``: the detector of the model being served (the registry's
  ``champion``), or of a local bundle folder, with the model version it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from kedro_mlops_kit.drift.champion import CACHE_DIR, ChampionDetectorError, fetch_champion_detector
from kedro_mlops_kit.drift.detectors import (
    DetectorBundle,
    load_detector_bundle,
    save_detector_bundle,
)
from kedro_mlops_kit.drift.schema import load_batch

__all__ = [
    "ChampionDetectorDataset",
    "DriftDetectorDataset",
    "ModelDetector",
    "ProductionBatch",
    "ProductionBatchDataset",
]


class DriftDetectorDataset(AbstractDataset[DetectorBundle, DetectorBundle]):
    """A detector bundle folder (alibi-detect files, schema, reference sample) in the catalog."""

    def __init__(self, filepath: str) -> None:
        """Keep the folder the bundle is saved to and loaded from."""
        self._filepath = Path(filepath)

    def _load(self) -> DetectorBundle:
        return load_detector_bundle(self._filepath)

    def _save(self, data: DetectorBundle) -> None:
        save_detector_bundle(data, self._filepath)

    def _exists(self) -> bool:
        return self._filepath.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


@dataclass(frozen=True)
class ProductionBatch:
    """The rows of a production batch and the file they were read from."""

    frame: pd.DataFrame
    source: str


@dataclass(frozen=True)
class ModelDetector:
    """A fitted detector bundle and the model version it was fitted for.

    ``model_name`` names the registered model whose champion the bundle is; it is ``None`` for
    a local bundle folder, which belongs to no registry entry.
    """

    bundle: DetectorBundle
    model_version: str
    model_name: str | None = None


class ProductionBatchDataset(AbstractDataset[NoReturn, ProductionBatch]):
    """A production batch file, read as CSV or Parquet by its suffix. Read-only.

    The batch is read once per run and kept until Kedro releases it: a file that a producer
    overwrites while the job runs (a ``latest.csv``) must not give two nodes different rows.
    """

    def __init__(self, filepath: str) -> None:
        """Keep the batch file's path; nothing is read before the first load."""
        self._filepath = Path(filepath)
        self._loaded: ProductionBatch | None = None

    def load(self) -> ProductionBatch:
        """Return the batch and its path.

        Raises:
            BatchFormatError: The file is absent or not CSV/Parquet (Kedro wraps it in a
                ``DatasetError`` whose ``__cause__`` it is).
        """
        if self._loaded is None:
            self._loaded = ProductionBatch(load_batch(self._filepath), str(self._filepath))
        return self._loaded

    def save(self, data: NoReturn) -> None:
        """Refuse: production batches come from production, never from a pipeline."""
        raise DatasetError(f"{self._filepath} is a production batch; the drift job only reads it")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _release(self) -> None:
        self._loaded = None

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class ChampionDetectorDataset(AbstractDataset[NoReturn, ModelDetector]):
    """The drift detector of a registered model's ``champion``, from MLflow. Read-only.

    Each model version carries the detector fitted on its own training data (the
    drift_detector pipeline logs it), so this checks production against the model actually
    served. With ``detector_dir`` set, the bundle in that folder is used instead, recorded as
    ``model_version``.

    The detector is fetched once per run and kept until Kedro releases it: every node then
    sees the same champion version, even if the alias moves while the job runs.
    """

    def __init__(
        self,
        model_name: str,
        detector_dir: str | None = None,
        model_version: str | int = "unknown",
        cache_dir: str = str(CACHE_DIR),
    ) -> None:
        """Keep where the detector comes from; MLflow is not contacted before the first load.

        Args:
            model_name: Registered model whose ``champion`` is checked against.
            detector_dir: A local bundle folder to use instead of the champion's.
            model_version: The version recorded for a local bundle (the champion's own
                version is used otherwise).
            cache_dir: Where downloaded detectors are kept, one folder per model version.
        """
        self._model_name = model_name
        self._detector_dir = Path(detector_dir) if detector_dir else None
        self._model_version = str(model_version)
        self._cache_dir = Path(cache_dir)
        self._loaded: ModelDetector | None = None

    def load(self) -> ModelDetector:
        """Return the detector bundle with its model version.

        Raises:
            ChampionDetectorError: The model has no champion, or its run no detector.
            FileNotFoundError: ``detector_dir`` holds no bundle. Kedro wraps both in a
                ``DatasetError`` whose ``__cause__`` they are.
        """
        if self._loaded is None:
            self._loaded = self._fetch()
        return self._loaded

    def _fetch(self) -> ModelDetector:
        if self._detector_dir is not None:
            return ModelDetector(load_detector_bundle(self._detector_dir), self._model_version)
        folder, version = fetch_champion_detector(self._model_name, self._cache_dir)
        return ModelDetector(load_detector_bundle(folder), version, self._model_name)

    def save(self, data: NoReturn) -> None:
        """Refuse: the drift_detector pipeline fits detectors and logs them with the model."""
        raise DatasetError(
            "The champion's drift detector is read-only: `make repro` fits and logs a new one"
        )

    def _exists(self) -> bool:
        if self._detector_dir is not None:
            return self._detector_dir.is_dir()
        try:
            fetch_champion_detector(self._model_name, self._cache_dir)
        except ChampionDetectorError:
            return False
        return True

    def _release(self) -> None:
        self._loaded = None

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "detector_dir": str(self._detector_dir) if self._detector_dir else None,
            "model_version": self._model_version,
        }
