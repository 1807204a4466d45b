"""The champion's drift detector, fetched from MLflow, and drift metrics logged back to it.

Each registered model version carries the detector fitted on its own training data (the
drift_detector pipeline logs it), so the drift job always checks production against the model
that is actually served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro_mlops_kit.registry import CHAMPION, AliasNotFoundError, champion_version

DETECTOR_ARTIFACT_PATH = "drift_detector"
CACHE_DIR = Path("data/06_models/champion_drift_detector")


class ChampionDetectorError(RuntimeError):
    """The champion or its detector cannot be found; the message says what to run."""


def fetch_champion_detector(model_name: str, cache_dir: Path = CACHE_DIR) -> tuple[Path, str]:
    """Download the champion's detector bundle (once per version); return (folder, version)."""
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        champion = champion_version(model_name, client)
    except AliasNotFoundError as error:
        raise ChampionDetectorError(
            f"No '{CHAMPION}' version of model '{model_name}' in MLflow "
            f"({client.tracking_uri}): run `make repro` first."
        ) from error
    except MlflowException as error:
        raise ChampionDetectorError(
            f"Could not ask MLflow ({client.tracking_uri}) for the champion of '{model_name}': "
            f"{error.message}. Check MLFLOW_TRACKING_URI and that the server is up."
        ) from error
    target = cache_dir / str(champion.version)
    if not (target / DETECTOR_ARTIFACT_PATH).is_dir():
        target.mkdir(parents=True, exist_ok=True)
        try:
            download_artifacts(
                run_id=champion.run_id, artifact_path=DETECTOR_ARTIFACT_PATH, dst_path=str(target)
            )
        except MlflowException as error:
            raise ChampionDetectorError(
                f"{model_name} v{champion.version} has no drift detector in its run: "
                "run `make repro` so the drift_detector stage fits and logs one."
            ) from error
    return target / DETECTOR_ARTIFACT_PATH, str(champion.version)


def log_drift_metrics(report: dict[str, Any], model_name: str, batch: Path) -> str:
    """Log one drift check as an MLflow run of the `<model>-drift` experiment; return its id."""
    import mlflow

    mlflow.set_experiment(f"{model_name}-drift")
    features = report["features"]
    with mlflow.start_run(run_name=f"drift {batch.name}") as run:
        mlflow.set_tags(
            {
                "model_version": str(report["model_version"]),
                "detector": report["detector"],
                "batch": str(batch),
            }
        )
        mlflow.log_metrics(
            {
                "is_drift": float(report["is_drift"]),
                "drifted_features": float(len(report["drifted_features"])),
                "drifted_share": len(report["drifted_features"]) / max(len(features), 1),
                "n_batch": float(report["n_batch"]),
            }
        )
    return run.info.run_id
