"""Rollback moves the champion alias back and changes what Triton serves."""

import time

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from kedro_mlops_kit.registry import CHAMPION, champion_version
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.errors import RollbackError
from kedro_mlops_kit.serving.local_triton import LocalTriton
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL
from kedro_mlops_kit.serving.rollback import ROLLED_BACK_FROM_TAG, rollback

from .conftest import MODEL_NAME


@pytest.fixture
def restore_champion(registry):
    yield
    client = MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, "2")
    if ROLLED_BACK_FROM_TAG in client.get_model_version(MODEL_NAME, "1").tags:
        client.delete_model_version_tag(MODEL_NAME, "1", ROLLED_BACK_FROM_TAG)


def _served_matches(client: TritonClient, rows: pd.DataFrame, model) -> bool:
    try:
        return np.allclose(client.predict(rows), model.predict_frame(rows), atol=ATOL, rtol=RTOL)
    except Exception:
        return False


@pytest.mark.triton
@pytest.mark.usefixtures("restore_champion")
def test_rollback_changes_the_served_champion(fresh_repo, triton_work_dir, holdout, registry):
    rows = holdout
    assert not np.allclose(registry[1].predict_frame(rows), registry[2].predict_frame(rows))
    configs = {p: p.read_bytes() for p in (fresh_repo / MODEL_NAME).rglob("*.pbtxt")}
    with (
        LocalTriton(fresh_repo, work_dir=triton_work_dir, poll_seconds=1) as server,
        TritonClient(server.http_url, "http", MODEL_NAME) as client,
    ):
        assert _served_matches(client, rows, registry[2])
        summary = rollback(MODEL_NAME, holdout, fresh_repo)
        assert (summary.from_version, summary.to_version) == (2, 1)
        assert summary.export.removed_versions == [2]
        assert not (fresh_repo / MODEL_NAME / "2").exists()
        deadline = time.monotonic() + 30
        while not _served_matches(client, rows, registry[1]):
            assert time.monotonic() < deadline, f"v1 not served after rollback\n{server.log_tail()}"
            time.sleep(0.5)
        assert client.is_live()
        assert client.info(refresh=True).versions == ("1",)
    assert {p: p.read_bytes() for p in configs} == configs
    assert str(champion_version(MODEL_NAME).version) == "1"
    tags = MlflowClient().get_model_version(MODEL_NAME, "1").tags
    assert tags[ROLLED_BACK_FROM_TAG] == "2"


@pytest.mark.usefixtures("restore_champion")
def test_rollback_without_previous_version_is_a_clear_error(fresh_repo, holdout):
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, "1")
    with pytest.raises(RollbackError, match="nothing to roll back to"):
        rollback(MODEL_NAME, holdout, fresh_repo)
    assert (fresh_repo / MODEL_NAME / "2" / "model.onnx").is_file()
