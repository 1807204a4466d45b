"""End-to-end tier: DVC stages rerun when code they import changes, and only then.

The always-run stage `code_deps` (`kedro kit code-deps`) writes, per pipeline, the source files
its nodes import; each stage depends on its manifest. A helper module that training imports
therefore reruns training (and, when the model changes, evaluation), never data_processing; a
module that nothing imports reruns nothing.

This file sorts after test_serving.py on purpose: it registers new model versions, and the
default project's earlier tests (drift, serving, rollback) expect versions 1 and 2 only.
"""

from __future__ import annotations

import pytest
import yaml
from projects import ON_DEFAULT_PROJECT, stages_run

pytestmark = [pytest.mark.e2e, ON_DEFAULT_PROJECT]

FEATURES = '''"""Feature helpers of the training pipeline: the team's own module."""

import pandas as pd


def training_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows the network learns from, in the order it sees them."""
    return {body}
'''


def model_md5(project) -> str:
    """The trained model's hash, as dvc.lock records it."""
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"]["training"]["outs"] if o["path"].endswith(".pkl"))


def repro(project) -> tuple[list[str], bool]:
    """`make repro`: the stages that ran, and whether the trained model changed."""
    before = model_md5(project)
    ran = stages_run(project.make("repro"))
    print(f"[e2e] stages run: {', '.join(ran)}")
    assert ran[0] == "code_deps", ran
    return ran, model_md5(project) != before


def test_stages_rerun_when_the_code_they_import_changes(trained_project):
    project = trained_project
    package = project.path / "src" / project.package
    training = package / "pipelines" / "training"

    # A new helper module, imported by the training nodes.
    (training / "features.py").write_text(FEATURES.format(body="frame"))
    nodes = training / "nodes.py"
    text = nodes.read_text()
    for old, new in (
        (
            "from ...model import build_model\n",
            "from ...model import build_model\nfrom .features import training_rows\n",
        ),
        ("train(build_model, train_set,", "train(build_model, training_rows(train_set),"),
    ):
        assert text.count(old) == 1, f"{nodes} no longer holds {old!r}"
        text = text.replace(old, new)
    nodes.write_text(text)
    # And a module nothing imports (edited below).
    scratch = package / "scratch.py"
    scratch.write_text('"""Notebook leftovers: imported by no pipeline."""\n')
    project.commit("Training rows through our own helper", str(training), str(scratch))
    ran, model_changed = repro(project)
    assert "training" in ran and "data_processing" not in ran, ran
    assert ("evaluation" in ran) == model_changed, (ran, model_changed)

    # An edit to that helper alone.
    body = "frame.sample(frac=1.0, random_state=7).reset_index(drop=True)"
    (training / "features.py").write_text(FEATURES.format(body=body))
    ran, model_changed = repro(project)
    assert "training" in ran and "data_processing" not in ran, ran
    assert ("evaluation" in ran) == model_changed, (ran, model_changed)

    # An edit to the module nothing imports: only code_deps runs.
    scratch.write_text('"""Notebook leftovers, edited."""\n\nANSWER = 42\n')
    ran, _ = repro(project)
    assert ran == ["code_deps"], ran
