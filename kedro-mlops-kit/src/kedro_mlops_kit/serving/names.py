"""Names and default paths shared by the light (CLI, client) and heavy (export) modules.

Kept free of heavy imports so ``kedro serving --help`` and the client start without torch or
mlflow. The registry aliases live in :mod:`kedro_mlops_kit.registry` (one place for all areas).
"""

from pathlib import Path

from kedro_mlops_kit.registry import CHALLENGER, CHAMPION

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "DEFAULT_OUTPUT_DIR",
    "DEFAULT_REPOSITORY",
    "DEFAULT_WORK_DIR",
]

# Relative to the project root, where `kedro serving ...` runs.
DEFAULT_REPOSITORY = Path("serving/model_repository")
DEFAULT_WORK_DIR = Path(".triton")
DEFAULT_OUTPUT_DIR = Path("data/08_reporting")
