"""Static tier: each migration does its job on a project of the previous layout, once."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

MIGRATIONS = ROOT / "hooks" / "migrations"
sys.path.insert(0, str(MIGRATIONS))  # the scripts import their helpers as copier runs them

spec = importlib.util.spec_from_file_location("v0_2_0", MIGRATIONS / "v0_2_0.py")
v0_2_0 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v0_2_0)

PARAMETERS = """\
# Drift detector fitted on the training split.
monitoring:
  detector: ks
  # Significance level.
  p_val: 0.05
"""
NODES = '''\
"""Nodes that fit the drift detector."""


def fit_drift_detector(train_set):
    """Fit it."""
    return train_set
'''
HELPER = '''

def team_helper(frame):
    """A helper the team added."""
    return frame.dropna()
'''
LOCK = "schema: '2.0'\nstages:\n  training:\n    cmd: train\n  monitoring:\n    cmd: kedro run\n"
OLD = "src/demo/pipelines/monitoring"
NEW = "src/demo/pipelines/drift_detector"


def git(project: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    return subprocess.run(
        ["git", *identity, *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout


def write(project: Path, relative: str, text: str) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A v0.1.0-shaped project: rendered and committed, then edited and committed by a team."""
    git(tmp_path, "init", "--quiet")
    write(tmp_path, ".copier-answers.yml", "_commit: v0.1.0\npackage_name: demo\n")
    write(tmp_path, "conf/base/parameters_monitoring.yml", PARAMETERS)
    write(tmp_path, f"{OLD}/__init__.py", '"""Monitoring pipeline."""\n')
    write(tmp_path, f"{OLD}/nodes.py", NODES)
    write(tmp_path, "dvc.lock", LOCK)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "Initial project")
    write(tmp_path, "conf/base/parameters_monitoring.yml", PARAMETERS.replace("0.05", "0.01"))
    write(tmp_path, "conf/local/parameters_monitoring.yml", "monitoring:\n  seed: 7\n")
    write(tmp_path, f"{OLD}/nodes.py", NODES + HELPER)
    write(tmp_path, f"{OLD}/team_checks.py", '"""Our own checks."""\n')
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "Team edits")
    return tmp_path


def copier_moves_the_folder(project: Path) -> None:
    """What `copier update` itself does: old template files go, new ones arrive."""
    for name in ("__init__.py", "nodes.py"):
        (project / OLD / name).unlink()
    write(project, f"{NEW}/__init__.py", '"""Drift detector pipeline."""\n')
    write(project, f"{NEW}/nodes.py", NODES.replace("Nodes that", "Nodes of drift_detector that"))


def test_before_renames_parameter_files_keeping_values_and_comments(project):
    messages = v0_2_0.before(project)
    assert not (project / "conf/base/parameters_monitoring.yml").exists()
    renamed = (project / "conf/base/parameters_drift_detector.yml").read_text()
    assert renamed == PARAMETERS.replace("0.05", "0.01").replace("monitoring:", "drift_detector:")
    assert (project / "conf/local/parameters_drift_detector.yml").read_text() == (
        "drift_detector:\n  seed: 7\n"
    )
    assert messages == [
        "renamed conf/base/parameters_monitoring.yml -> conf/base/parameters_drift_detector.yml "
        "(key monitoring: -> drift_detector:)",
        "renamed conf/local/parameters_monitoring.yml -> conf/local/parameters_drift_detector.yml "
        "(key monitoring: -> drift_detector:)",
    ]
    assert v0_2_0.before(project) == [], "a second run must change nothing"


def test_before_never_overwrites_a_file_of_the_new_name(project):
    write(project, "conf/base/parameters_drift_detector.yml", "drift_detector: {}\n")
    messages = v0_2_0.before(project)
    assert (project / "conf/base/parameters_drift_detector.yml").read_text() == (
        "drift_detector: {}\n"
    )
    assert (project / "conf/base/parameters_monitoring.yml").exists()
    assert "exists too" in messages[0]


def test_after_carries_the_team_edits_to_the_moved_folder(project):
    copier_moves_the_folder(project)
    messages = v0_2_0.after(project)
    nodes = (project / NEW / "nodes.py").read_text()
    assert nodes.startswith('"""Nodes of drift_detector that'), "the template's change stays"
    assert nodes.endswith(HELPER), "the team's helper moved with the module"
    assert (project / NEW / "team_checks.py").read_text() == '"""Our own checks."""\n'
    assert not (project / OLD).exists()
    assert not list(project.rglob("*.rej"))
    assert f"carried your edits of {OLD}/ to {NEW}/" in messages[0]
    assert "renamed stage monitoring -> drift_detector in dvc.lock" in messages[1]
    assert "  drift_detector:\n    cmd: kedro run" in (project / "dvc.lock").read_text()
    assert v0_2_0.after(project) == [], "a second run must change nothing"
    assert (project / NEW / "nodes.py").read_text() == nodes


def test_after_leaves_rejected_hunks_for_the_team_and_says_so(project):
    copier_moves_the_folder(project)
    write(project, f"{NEW}/nodes.py", '"""Rewritten by the template."""\n')
    messages = v0_2_0.after(project)
    assert (project / NEW / "nodes.py.rej").exists()
    assert "only in part" in messages[0] and "nodes.py" in messages[0]


def test_after_lists_places_that_still_name_the_old_pipeline(project):
    copier_moves_the_folder(project)
    write(project, "src/demo/pipelines/ours/pipeline.py", 'INPUTS = ["params:monitoring"]\n')
    messages = v0_2_0.after(project)
    assert messages[-1].endswith("src/demo/pipelines/ours/pipeline.py:1")


def test_without_a_committed_sync_it_explains_instead_of_guessing(tmp_path):
    git(tmp_path, "init", "--quiet")
    write(tmp_path, ".copier-answers.yml", "package_name: demo\n")
    assert "never committed" in v0_2_0.after(tmp_path)[0]


def test_script_reports_each_step_and_refuses_unknown_stages(project):
    script = str(MIGRATIONS / "v0_2_0.py")
    done = subprocess.run(
        [sys.executable, script, "before"], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("migration v0.2.0 (before): renamed conf/base/")
    again = subprocess.run(
        [sys.executable, script, "before"], cwd=project, capture_output=True, text=True
    )
    assert again.stdout == "migration v0.2.0 (before): nothing to do\n"
    wrong = subprocess.run([sys.executable, script, "during"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "usage" in wrong.stderr
