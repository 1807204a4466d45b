"""Bad answers are refused before anything is written, with a message a person understands."""

from __future__ import annotations

import pytest
from conftest import render

BAD_ANSWERS = {
    "package-not-identifier": (
        {"package_name": "1bad-name"},
        'package_name "1bad-name" is not a Python identifier',
    ),
    "package-is-keyword": ({"package_name": "class"}, "is a Python keyword"),
    "package-shadows-library": ({"package_name": "torch"}, "name of a library the project imports"),
    "s3-without-url": ({"dvc_remote": "s3"}, "dvc_remote_url must not be empty: give the s3"),
    "gcs-with-s3-url": (
        {"dvc_remote": "gcs", "dvc_remote_url": "s3://bucket/dvc"},
        "must start with gs://",
    ),
    "azure-with-gcs-url": (
        {"dvc_remote": "azure", "dvc_remote_url": "gs://bucket/dvc"},
        "must start with azure://",
    ),
    "local-with-url": ({"dvc_remote_url": "s3://bucket/dvc"}, "dvc_remote=local takes a folder"),
    "email": ({"author_email": "not-an-email"}, "is not an e-mail address"),
    "version": ({"project_version": "1.0"}, "is not a version of the form MAJOR.MINOR.PATCH"),
    "triton-version": (
        {"triton_version": "2.51.0"},
        "is not a Triton release tag of the form YY.MM",
    ),
    "model-name": ({"model_name": "my model"}, "must start with a letter"),
    "mlflow-file-store": ({"mlflow_tracking_uri": "./mlruns"}, "is not a tracking URI MLflow 3"),
}


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_bad_answer_refused_before_writing(tmp_path, answers, message):
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match="Validation error") as error:
        render(destination, answers)
    assert message in str(error.value)
    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize(
    "answers",
    [
        {"package_name": "churn_model2"},
        {"dvc_remote": "s3", "dvc_remote_url": "s3://bucket/path"},
        {"mlflow_tracking_uri": "http://mlflow.internal:5000"},
        {"project_version": "1.2.3rc1"},
    ],
    ids=["identifier", "s3-url", "http-tracking", "pre-release"],
)
def test_good_answers_accepted(tmp_path, answers):
    assert (render(tmp_path / "project", answers) / "pyproject.toml").is_file()
