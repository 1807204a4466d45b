"""Production records on a real Triton server: score, feedback, performance, the trigger."""

import json

import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.drift.retrain_trigger import trigger_retraining
from kedro_mlops_kit.production.feedback import record_feedback
from kedro_mlops_kit.production.performance import log_report, performance_report, write_report
from kedro_mlops_kit.production.score import score_batch
from kedro_mlops_kit.production.store import ProductionInputError, ProductionStore
from kedro_mlops_kit.serving.errors import InvalidInputError
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL

from .conftest import MODEL_NAME
from .tiny_model import AGE, LABELS, TARGET, raw_table

pytestmark = pytest.mark.triton


@pytest.fixture
def store(tmp_path):
    return ProductionStore(tmp_path / "data" / "10_production")


def _score(triton, exported_repo, store, path, **options):
    return score_batch(
        path,
        model_name=MODEL_NAME,
        url=triton.http_url,
        repository=exported_repo,
        store=store,
        **options,
    )


@pytest.fixture
def batch(tmp_path):
    """Production rows as they arrive: no target, one customer id per row."""
    rows = raw_table(60, seed=7).drop(columns=[TARGET])
    rows.insert(0, "customer", [f"c{i:03d}" for i in range(60)])
    path = tmp_path / "batch.csv"
    rows.to_csv(path, index=False)
    return path


def test_a_scored_batch_records_inputs_answers_and_the_answering_version(
    triton, exported_repo, registry, store, batch
):
    summary = _score(triton, exported_repo, store, batch)
    assert summary["rows"] == 60 and summary["model_versions"] == ["2"]
    scored = store.scored()
    assert scored["row_id"].tolist() == [f"{summary['batch_id']}-{i:07d}" for i in range(60)]
    assert set(scored["model_version"]) == {"2"} and scored["scored_at"].nunique() == 1
    assert [c for c in scored.columns if c.startswith("p_")] == [f"p_{label}" for label in LABELS]
    sent = pd.read_csv(batch)
    expected = registry[2].predict_frame(sent)
    np.testing.assert_allclose(scored[[f"p_{x}" for x in LABELS]], expected, atol=ATOL, rtol=RTOL)
    assert (scored["label"] == np.asarray(LABELS, dtype=object)[expected.argmax(axis=1)]).all()
    inputs = store.inputs()
    assert inputs["row_id"].tolist() == scored["row_id"].tolist()
    pd.testing.assert_series_equal(inputs[AGE], sent[AGE])
    # The same file again would record its rows twice: refused, nothing written.
    with pytest.raises(ProductionInputError, match="scored already"):
        _score(triton, exported_repo, store, batch)
    assert len(store.scored()) == 60


def test_id_columns_must_identify_rows_once_across_batches(triton, exported_repo, store, batch):
    summary = _score(triton, exported_repo, store, batch, id_column="customer")
    assert store.scored()["row_id"].tolist()[:2] == ["c000", "c001"] and summary["rows"] == 60
    again = pd.read_csv(batch).iloc[:5].assign(**{AGE: 30.0})
    again.to_csv(batch.with_name("again.csv"), index=False)
    with pytest.raises(ProductionInputError, match=r"\['c000', 'c001'.*scored in an earlier batch"):
        _score(triton, exported_repo, store, batch.with_name("again.csv"), id_column="customer")
    repeated = pd.read_csv(batch).assign(customer="same")
    repeated.to_csv(batch.with_name("repeated.csv"), index=False)
    with pytest.raises(ProductionInputError, match="repeated in rows"):
        _score(triton, exported_repo, store, batch.with_name("repeated.csv"), id_column="customer")
    pd.read_csv(batch).iloc[:3].to_csv(batch.with_name("new.csv"), index=False)
    with pytest.raises(ProductionInputError, match="no id column 'account'"):
        _score(triton, exported_repo, store, batch.with_name("new.csv"), id_column="account")
    assert len(store.scored()) == 60, "nothing recorded by the refused batches"


def test_a_batch_that_fails_the_schema_records_nothing(triton, exported_repo, store, batch):
    rows = pd.read_csv(batch)
    rows[AGE] = rows[AGE].astype(object)
    rows.loc[4, AGE] = "forty"
    rows.to_csv(batch, index=False)
    with pytest.raises(InvalidInputError, match=AGE):
        _score(triton, exported_repo, store, batch)
    assert store.scored().empty and store.inputs().empty


def _labels(store, path, rows, **columns):
    frame = pd.DataFrame({"row_id": rows, **columns})
    frame.to_csv(path, index=False)
    return path


def test_feedback_joins_late_partial_labels_and_reports_the_rest(
    triton, exported_repo, store, batch, tmp_path
):
    _score(triton, exported_repo, store, batch)
    ids = store.scored()["row_id"].tolist()
    truth = raw_table(60, seed=7)[TARGET].tolist()
    path = _labels(
        store,
        tmp_path / "labels.csv",
        [*ids[:40], "never-scored-1", "never-scored-2", ids[40]],
        **{TARGET: [*truth[:40], "no", "no", None]},
    )
    summary = record_feedback(path, target=TARGET, task="classification", store=store)
    assert summary["rows_recorded"] == 40 and summary["rows_without_label"] == 1
    assert summary["unknown_ids"] == 2 and summary["unknown_id_examples"] == [
        "never-scored-1",
        "never-scored-2",
    ]
    labelled = store.labelled()
    assert labelled["row_id"].tolist() == ids[:40]
    assert labelled[TARGET].tolist() == truth[:40]
    assert {AGE, "p_no", "label", "model_version", "labelled_at"} <= set(labelled.columns)
    with pytest.raises(ProductionInputError, match="recorded already"):
        record_feedback(path, target=TARGET, task="classification", store=store)
    # A later, corrected label for a row counts instead of the first one.
    fixed = _labels(store, tmp_path / "fixed.csv", ids[:1], **{TARGET: ["café"]})
    assert record_feedback(fixed, target=TARGET, task="classification", store=store)["relabelled"]
    assert store.labelled().set_index("row_id").loc[ids[0], TARGET] == "café"


@pytest.mark.parametrize(
    ("rows", "labels", "match"),
    [
        (["x"], ["no"], "None of the 1 labelled id"),
        ([0, 0], ["no", "no"], "appear more than once"),
        ([0], ["maybe"], r"\['maybe'\].*not classes of the model"),
    ],
)
def test_bad_labels_files_record_nothing(
    triton, exported_repo, store, batch, tmp_path, rows, labels, match
):
    _score(triton, exported_repo, store, batch)
    ids = store.scored()["row_id"].tolist()
    rows = [ids[r] if isinstance(r, int) else r for r in rows]
    path = _labels(store, tmp_path / "labels.csv", rows, **{TARGET: labels})
    with pytest.raises(ProductionInputError, match=match):
        record_feedback(path, target=TARGET, task="classification", store=store)
    assert store.labelled().empty
    pd.DataFrame({"row_id": ids[:2]}).to_csv(tmp_path / "no_target.csv", index=False)
    with pytest.raises(ProductionInputError, match=r"lacks column\(s\) \['label, final'\]"):
        record_feedback(
            tmp_path / "no_target.csv", target=TARGET, task="classification", store=store
        )


def _report(store, champion_accuracy, min_rows=10):
    return performance_report(
        store,
        target=TARGET,
        task="classification",
        metric="accuracy",
        greater_is_better=True,
        champion={"version": "2", "metrics": {"accuracy": champion_accuracy}},
        max_drop=0.05,
        min_rows=min_rows,
    )


def test_performance_per_labelled_batch_and_the_degradation_verdict(
    triton, exported_repo, store, batch, tmp_path, tracking_uri, monkeypatch, capsys
):
    _score(triton, exported_repo, store, batch)
    scored = store.scored()
    # First feedback: the model's own answers (accuracy 1); then every label wrong (0).
    right = _labels(
        store, tmp_path / "a.csv", scored["row_id"][:30], **{TARGET: scored["label"][:30]}
    )
    record_feedback(right, target=TARGET, task="classification", store=store)
    report = _report(store, champion_accuracy=0.9)
    assert [b["metrics"]["accuracy"] for b in report["batches"]] == [1.0]
    assert not report["is_degraded"] and report["batches"][0]["model_version"] == "2"
    wrong_labels = [LABELS[(LABELS.index(x) + 1) % 3] for x in scored["label"][30:]]
    wrong = _labels(store, tmp_path / "b.csv", scored["row_id"][30:], **{TARGET: wrong_labels})
    record_feedback(wrong, target=TARGET, task="classification", store=store)
    report = _report(store, champion_accuracy=0.9)
    assert [b["metrics"]["accuracy"] for b in report["batches"]] == [1.0, 0.0]
    assert report["is_degraded"]
    assert "accuracy 0.0000 on 30 labelled production rows" in report["reason"]
    assert "below 0.8550 (champion v2 test 0.9000" in report["reason"]
    # Too few rows to judge: reported, not judged.
    assert not _report(store, 0.9, min_rows=31)["is_degraded"]

    paths = write_report(report, tmp_path / "reporting")
    assert [p.name for p in paths] == [
        "performance_report.json",
        "performance_report.md",
        "performance_report.png",
    ]
    assert "**DEGRADED**" in paths[1].read_text() and paths[2].stat().st_size > 5000
    run_id = log_report(report, MODEL_NAME)
    from mlflow import MlflowClient

    history = MlflowClient().get_metric_history(run_id, "production_accuracy")
    assert [m.value for m in history] == [1.0, 0.0]

    # The retraining trigger reads the verdict and sends its reason.
    monkeypatch.setenv("CI_API_V4_URL", "http://127.0.0.1:9/api/v4")
    monkeypatch.setenv("CI_PROJECT_ID", "7")
    monkeypatch.setenv("CI_JOB_TOKEN", "secret")
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "main")
    assert trigger_retraining(paths[0], dry_run=True) == 0
    printed = capsys.readouterr().out
    assert "variables[RETRAIN_REASON]=performance: accuracy 0.0000" in printed
    assert "secret" not in printed
    ok = json.loads(paths[0].read_text()) | {"is_degraded": False}
    paths[0].write_text(json.dumps(ok))
    assert trigger_retraining(paths[0], dry_run=True) == 0
    assert "No degradation in report" in capsys.readouterr().out
