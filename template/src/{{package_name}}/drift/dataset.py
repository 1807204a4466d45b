"""A Kedro dataset for a fitted drift detector, stored with alibi-detect's own save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from .detectors import DetectorBundle, load_detector_bundle, save_detector_bundle


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
