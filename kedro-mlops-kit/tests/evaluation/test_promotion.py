"""Promotion when the primary metric changes: the champion lacks the new metric.

Defect fixed in 0.3.0: a champion registered before ``evaluation.primary_metric`` changed has no
value of the new metric, and every later challenger was refused ("has no recorded <metric> to
compare with") although it passed the gate; the champion could never be replaced. Now the gate
alone decides in that case, and the promotion record says so.
"""

from types import SimpleNamespace

import mlflow
import pytest
import torch
from mlflow import MlflowClient

from kedro_mlops_kit.evaluation.history import champion_lineage, lineage_table
from kedro_mlops_kit.evaluation.promotion import audit_tags, promotion_decision, register_model
from kedro_mlops_kit.evaluation.registry import Champion
from kedro_mlops_kit.serving_model import ServingModule
from tests.helpers import numeric_state

NAME = "promotion_test_model"
ACCURACY = {"name": "accuracy", "greater_is_better": True}
F1 = {"name": "f1", "greater_is_better": True}
PASSED = {"passed": True, "failures": []}
FAILED = {"passed": False, "failures": ["f1=0.1000 is below the minimum 0.5"]}


def _decide(metrics, gate, champion, primary=F1, task="classification"):
    model = SimpleNamespace(task=task)
    return promotion_decision(model, metrics, gate, champion, primary, NAME)


def test_champion_lacking_the_primary_metric_is_replaced_on_the_gate():
    champion = Champion(version="4", task="classification", metrics={"accuracy": 0.99})
    promoted, reason = _decide({"f1": 0.8}, PASSED, champion)
    assert promoted is True
    assert reason == "champion v4 has no f1; promoted on the gate alone (f1=0.8000)"
    assert _decide({"f1": 0.8}, FAILED, champion) == (False, "quality gate failed")


def test_champion_with_the_metric_is_still_compared_with():
    champion = Champion(version="4", task="classification", metrics={"f1": 0.9})
    assert _decide({"f1": 0.8}, PASSED, champion)[0] is False
    assert _decide({"f1": 0.9}, PASSED, champion)[0] is True


def test_champion_of_another_task_is_never_replaced():
    champion = Champion(version="2", task="regression", metrics={})
    promoted, reason = _decide({"f1": 0.8}, PASSED, champion)
    assert promoted is False
    assert "is a regression model" in reason
    # A legacy champion without a task tag is compared like any other.
    legacy = Champion(version="2", task=None, metrics={"f1": 0.5})
    assert _decide({"f1": 0.8}, PASSED, legacy)[0] is True


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A throw-away sqlite tracking/registry store with artifacts under a tmp folder."""
    root = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    experiment = mlflow.create_experiment("promotion", artifact_location=(root / "a").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    yield MlflowClient()
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def model():
    return ServingModule(torch.nn.Linear(1, 2), numeric_state("classification", ("x",)))


def _register(model, metrics, gate, primary):
    params = {
        "model_name": NAME,
        "primary_metric": {"classification": primary},
        "raw_data_path": "does/not/exist.csv",
        "pip_requirements": ["torch"],
    }
    history = [{"epoch": 1, "processes": 1}]
    with mlflow.start_run() as run:
        record = register_model(model, metrics, gate, history, model.preprocessor, params, {}, {})
    return record, MlflowClient().get_run(run.info.run_id).data.tags


def _champion(registry):
    return str(registry.get_model_version_by_alias(NAME, "champion").version)


def test_changing_the_primary_metric_does_not_block_promotion(registry, model):
    # 1. The first champion, chosen on accuracy: it carries no f1.
    record, _ = _register(model, {"accuracy": 0.9}, PASSED, ACCURACY)
    assert record["promoted"] is True
    first = record["version"]

    # 2. The primary metric is now f1: a challenger that passes the gate replaces it.
    record, tags = _register(model, {"accuracy": 0.5, "f1": 0.8}, PASSED, F1)
    reason = f"champion v{first} has no f1; promoted on the gate alone (f1=0.8000)"
    assert record["promoted"] is True
    assert record["reason"] == tags["promotion_reason"] == reason
    assert record["previous_champion_version"] == first
    assert record["previous_champion_value"] is None
    assert _champion(registry) == record["version"]
    second = record["version"]

    # 3. From then on challengers are compared on f1 again, and the gate still rules.
    record, tags = _register(model, {"f1": 0.7}, PASSED, F1)
    assert record["promoted"] is False
    assert tags["promotion_reason"] == "f1=0.7000 vs champion 0.8000: worse than the champion"
    record, _ = _register(model, {"f1": 0.95}, FAILED, F1)
    assert record["promoted"] is False
    assert _champion(registry) == second


def test_audit_tags_say_why_and_who():
    assert audit_tags({"RETRAIN_REASON": "ks drift on model 3: age"}) | {"promoted_by": ""} == {
        "trigger": "retraining: ks drift on model 3: age",
        "promoted_by": "",
    }
    ci = audit_tags({"CI_JOB_ID": "42", "GITLAB_USER_LOGIN": "ada", "CI_JOB_URL": "https://g/j/42"})
    assert ci == {
        "trigger": "manual",
        "promoted_by": "GitLab job 42 (pipeline by ada) https://g/j/42",
    }
    assert "@" in audit_tags({})["promoted_by"]


def test_history_follows_the_champions_back(registry, model, monkeypatch):
    monkeypatch.setenv("RETRAIN_REASON", "performance: f1 0.5 below 0.8")
    first, _ = _register(model, {"f1": 0.99}, PASSED, F1)
    monkeypatch.delenv("RETRAIN_REASON")
    _register(model, {"f1": 0.1}, PASSED, F1)  # not promoted: not in the lineage
    monkeypatch.setenv("CI_JOB_ID", "7")
    second, _ = _register(model, {"f1": 0.999}, PASSED, F1)
    rows = champion_lineage(NAME, "f1")
    assert [r["version"] for r in rows[:2]] == [second["version"], first["version"]]
    assert rows[0]["promoted_by"].startswith("GitLab job 7") and rows[0]["trigger"] == "manual"
    assert rows[1]["trigger"] == "retraining: performance: f1 0.5 below 0.8"
    assert rows[0]["f1"] == pytest.approx(0.999)
    table = lineage_table(rows, "f1")
    assert table.splitlines()[0].startswith("| version | registered | f1 | trigger |")
    assert f"| {second['version']} |" in table and "0.9990" in table
