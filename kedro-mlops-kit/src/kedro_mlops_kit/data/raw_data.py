"""Put the raw data in place and under DVC, whatever state the project is in.

``kedro data raw`` (``make raw-data``; every pipeline target runs it first), from the project root:

- The raw file is there: make sure DVC tracks it (``dvc add`` once).
- It is missing but DVC knows it (a fresh clone): fetch it with ``dvc pull``.
- It is missing and DVC does not know it (a new project): write the default dataset for the
  project's task (its ``data_processing.task`` parameter), then track it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RAW_DATA = Path("data/01_raw/dataset.csv")


class RawDataError(RuntimeError):
    """The raw data could not be put in place; the message says what to do."""


def dvc(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the project's own DVC (next to this Python) and return the finished process."""
    executable = Path(sys.executable).with_name("dvc")
    return subprocess.run([str(executable), *args], capture_output=True, text=True, check=False)


def ensure_raw_data(raw: Path = RAW_DATA) -> str:
    """Make ``raw`` present and DVC-tracked; return a one-line account of what was done."""
    pointer = raw.with_name(raw.name + ".dvc")
    if raw.exists():
        if pointer.exists():
            return f"{raw} is in place and tracked by DVC ({pointer})."
        track(raw)
        return f"{raw} is now tracked by DVC: commit {pointer} with git."
    if pointer.exists():
        pulled = dvc("pull", str(pointer))
        if pulled.returncode != 0:
            raise RawDataError(
                f"{raw} is missing and `dvc pull` could not fetch it:\n{pulled.stderr.strip()}\n"
                "Check the DVC remote (`dvc remote list`, credentials in .dvc/config.local), "
                f"or delete {pointer} to start again from the default dataset."
            )
        return f"Fetched {raw} from the DVC remote."
    # Imported here: scikit-learn and pandas take seconds to load, and the common case (the
    # file is already there) needs neither.
    from kedro_mlops_kit.data.default_data import write_default_dataset

    write_default_dataset(raw)
    track(raw)
    return f"Wrote the default dataset to {raw} and tracked it with DVC."


def track(raw: Path) -> None:
    """`dvc add` the raw file, or raise with DVC's own explanation."""
    added = dvc("add", str(raw))
    if added.returncode != 0:
        raise RawDataError(f"`dvc add {raw}` failed:\n{added.stderr.strip() or added.stdout}")
