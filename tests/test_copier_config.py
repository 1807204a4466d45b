"""Static tier: copier.yml reads top to bottom and asks the fixed questions well."""

from __future__ import annotations

import yaml
from conftest import ROOT

FIXED_QUESTIONS = [
    "project_name",
    "package_name",
    "model_name",
    "python_version",
    "task",
    "accelerator",
    "dvc_remote",
    "dvc_remote_url",
    "mlflow_tracking_uri",
    "drift_detector",
    "triton_version",
]


def load_copier_yml() -> dict:
    return yaml.safe_load((ROOT / "copier.yml").read_text())


def test_settings_come_first():
    keys = list(load_copier_yml())
    settings = [k for k in keys if k.startswith("_")]
    assert keys[: len(settings)] == settings, "settings (_keys) must precede the questions"
    for required in (
        "_min_copier_version",
        "_subdirectory",
        "_templates_suffix",
        "_answers_file",
        "_tasks",
        "_message_after_copy",
    ):
        assert required in settings


def test_fixed_questions_asked_with_help_and_default():
    config = load_copier_yml()
    for name in FIXED_QUESTIONS:
        assert name in config, f"question {name} missing"
        assert config[name].get("help"), f"question {name} has no help"
        assert "default" in config[name], f"question {name} has no default"


def test_computed_values_last():
    config = load_copier_yml()
    questions = [k for k in config if not k.startswith("_")]
    computed = [k for k in questions if config[k].get("when") is False]
    assert computed and questions[-len(computed) :] == computed
