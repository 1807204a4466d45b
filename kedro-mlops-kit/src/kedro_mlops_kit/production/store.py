"""Where production records live: scored batches, their inputs, and labelled rows.

Layout (under ``data/10_production``, versioned by DVC as one directory)::

    inputs/<batch_id>.parquet     each scored batch as it was sent, with its row ids
    scored/<batch_id>.parquet     per row: row id, batch, position, time, model version, answer
    labelled/<feedback_id>.parquet  scored rows joined with the ground truth that came back

One file per batch and per feedback file: nothing is ever rewritten, so a record can be traced
to the DVC version that added it. Ids are the first 12 hex digits of the file's SHA-256, so
the same file is recognised when it comes back a second time.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "PRODUCTION_DIR",
    "ProductionInputError",
    "ProductionStore",
    "content_id",
    "track_with_dvc",
]

PRODUCTION_DIR = Path("data/10_production")
#: Columns of a scored record besides the answer (``p_<label>`` and ``label``, or
#: ``prediction``).
RECORD_COLUMNS = ("row_id", "batch_id", "row", "scored_at", "model_name", "model_version")


class ProductionInputError(ValueError):
    """A batch or labels file cannot be recorded; the message says what is wrong and the fix."""


def content_id(path: Path) -> str:
    """First 12 hex digits of the SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to Parquet atomically (text columns of mixed types as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A CSV column mixing numbers and text: keep every value, as text.
        frame = frame.copy()
        for column in frame.select_dtypes(include="object").columns:
            frame[column] = frame[column].where(frame[column].isna(), frame[column].astype(str))
        table = pa.Table.from_pandas(frame, preserve_index=False)
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table, partial)
    os.replace(partial, path)


@dataclass(frozen=True)
class ProductionStore:
    """The production records of one project (``root``: ``data/10_production``)."""

    root: Path = PRODUCTION_DIR

    @property
    def inputs_dir(self) -> Path:
        """Scored batches as sent."""
        return self.root / "inputs"

    @property
    def scored_dir(self) -> Path:
        """One record per scored row."""
        return self.root / "scored"

    @property
    def labelled_dir(self) -> Path:
        """Scored rows with their ground truth."""
        return self.root / "labelled"

    def has_batch(self, batch_id: str) -> bool:
        """Whether a batch with this id was scored already."""
        return (self.scored_dir / f"{batch_id}.parquet").is_file()

    def has_feedback(self, feedback_id: str) -> bool:
        """Whether a labels file with this id was recorded already."""
        return (self.labelled_dir / f"{feedback_id}.parquet").is_file()

    def write_batch(self, batch_id: str, inputs: pd.DataFrame, scored: pd.DataFrame) -> None:
        """Write one scored batch: its inputs first, so a record never lacks its inputs."""
        _write(inputs, self.inputs_dir / f"{batch_id}.parquet")
        _write(scored, self.scored_dir / f"{batch_id}.parquet")

    def write_feedback(self, feedback_id: str, labelled: pd.DataFrame) -> Path:
        """Write one feedback file's labelled rows; return its path."""
        path = self.labelled_dir / f"{feedback_id}.parquet"
        _write(labelled, path)
        return path

    @staticmethod
    def _read_all(folder: Path) -> pd.DataFrame:
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def scored(self) -> pd.DataFrame:
        """Every scored record (empty when nothing was scored)."""
        return self._read_all(self.scored_dir)

    def inputs(self) -> pd.DataFrame:
        """Every scored batch's inputs, with ``row_id``."""
        return self._read_all(self.inputs_dir)

    def labelled_batches(self) -> list[tuple[str, pd.DataFrame]]:
        """Each feedback file's labelled rows, oldest first (by ``labelled_at``, to the µs)."""
        if not self.labelled_dir.is_dir():
            return []
        batches = [(p.stem, pd.read_parquet(p)) for p in self.labelled_dir.glob("*.parquet")]
        return sorted(batches, key=lambda item: (str(item[1]["labelled_at"].iloc[0]), item[0]))

    def labelled(self) -> pd.DataFrame:
        """Every labelled row once: the latest label of a row labelled twice."""
        batches = self.labelled_batches()
        if not batches:
            return pd.DataFrame()
        rows = pd.concat([frame for _, frame in batches], ignore_index=True)
        return rows.drop_duplicates("row_id", keep="last").reset_index(drop=True)


def track_with_dvc(store: ProductionStore, project: Path | None = None) -> str:
    """``dvc add`` the production directory; return a one-line account.

    Outside a DVC repository (no ``.dvc`` folder) nothing is tracked and the account says so.
    """
    from kedro_mlops_kit.data.raw_data import dvc

    project = Path(project or Path.cwd())
    if not (project / ".dvc").is_dir():
        return f"{store.root} is not tracked: {project} is not a DVC repository (`dvc init`)."
    added = dvc("add", str(store.root))
    if added.returncode != 0:
        raise ProductionInputError(
            f"`dvc add {store.root}` failed:\n{added.stderr.strip() or added.stdout}\nThe records "
            "are written; fix DVC and run the command again to version them."
        )
    return f"{store.root} versioned by DVC: commit {store.root}.dvc with git (and `dvc push`)."
