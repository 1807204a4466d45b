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


# ---------------------------------------------------------------- v0.3.0: the plugin

spec = importlib.util.spec_from_file_location("v0_3_0", MIGRATIONS / "v0_3_0.py")
v0_3_0 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v0_3_0)
import project_edits  # noqa: E402 - importable once the migrations folder is on sys.path

KIT = ROOT / "kedro-mlops-kit" / "src"
PATTERNS = [
    "conf/base/catalog.yml",
    "conf/base/parameters_*.yml",
    "src/demo/model.py",
    "src/demo/pipelines/training/**",
    "src/demo/pipelines/evaluation/**",
]
OLD_NODES = '''\
"""Nodes of the training pipeline."""

from __future__ import annotations

import logging

from ...preprocessor import Preprocessor
from .trainer import train_loop

logger = logging.getLogger(__name__)


def train_model(data, params):
    """Train."""
    logger.info("training")
    return train_loop(Preprocessor(), data, params)
'''
NEW_NODES = '''\
"""Nodes of the training pipeline."""

from __future__ import annotations

from kedro_mlops_kit.training.fit import train

from ...model import build_model


def train_model(data, params):
    """Train the network of model.build_model."""
    return train(build_model, data, params)
'''
TEAM_HELPER = '''

def team_helper(frame):
    """A helper the team added: it reads the old module's logger and imports."""
    logger.info("cleaning")
    return Preprocessor.clean(frame)
'''
OLD_CATALOG = """\
# ---------- data_processing ----------
raw_data:
  type: pandas.CSVDataset
  filepath: data/01_raw/dataset.csv

# ---------- training ----------
# The trained module.
model:
  type: pickle.PickleDataset
  filepath: data/06_models/model.pkl

# ---------- drift ----------
drift_detector:
  type: demo.drift.dataset.DriftDetectorDataset
  filepath: data/06_models/drift_detector

drift_report:
  type: json.JSONDataset
  filepath: data/08_reporting/drift_report.json
"""
NEW_CATALOG = """\
# The team's datasets.
raw_data:
  type: pandas.CSVDataset
  filepath: data/01_raw/dataset.csv
"""
NEW_MLOPS = """\
# The lifecycle's datasets.
# ---------- training ----------
# The trained module.
model:
  type: pickle.PickleDataset
  filepath: data/06_models/model.pkl

# ---------- drift ----------
drift_detector:
  type: kedro_mlops_kit.drift.dataset.DriftDetectorDataset
  filepath: data/06_models/drift_detector

drift_report:
  type: json.JSONDataset
  filepath: data/08_reporting/drift_report.json
"""
TEAM_CATALOG = """\
# ---------- data_processing ----------
# Our weekly export.
raw_data:
  type: pandas.CSVDataset
  filepath: data/01_raw/churn.csv  # not the default data

# ---------- training ----------
# The trained module.
model:
  type: pickle.PickleDataset
  filepath: data/06_models/model.pkl

# ---------- drift ----------
drift_detector:
  type: demo.drift.dataset.DriftDetectorDataset
  filepath: data/06_models/drift_detector

drift_report:
  type: json.JSONDataset
  filepath: reports/drift_report.json

# Batches the team checks by hand.
team_batches:
  type: demo.drift.dataset.ProductionBatchDataset
  filepath: data/09_team/batches.csv
"""
OLD_TREE = {
    "src/demo/__init__.py": '"""Demo."""\n',
    "src/demo/preprocessor.py": '"""Preprocessing."""\n',
    "src/demo/serving/__init__.py": '"""Serving."""\n',
    "src/demo/serving/export.py": '"""Export."""\n\n\ndef export():\n    """Export."""\n',
    "src/demo/serving_model.py": '"""The network."""\n\nLAYERS = ["ReLU"]\n',
    "src/demo/pipelines/training/__init__.py": '"""Training."""\n',
    "src/demo/pipelines/training/nodes.py": OLD_NODES,
    "src/demo/pipelines/training/pipeline.py": '"""Wiring."""\n\nNODES = ["train_model"]\n',
    "src/demo/pipelines/training/trainer.py": '"""The loop."""\n',
    "src/demo/pipelines/evaluation/nodes.py": '"""Evaluation."""\n\nOLD = 1\n',
    "tests/serving/test_export.py": "def test_export():\n    pass\n",
    "conf/base/catalog.yml": OLD_CATALOG,
    "conf/base/parameters_training.yml": "training:\n  hidden_sizes: [64, 32]\n",
}
NEW_TREE = {
    "src/demo/__init__.py": '"""Demo."""\n',
    "src/demo/model.py": '"""The architecture."""\n',
    "src/demo/pipelines/training/__init__.py": '"""Training."""\n',
    "src/demo/pipelines/training/nodes.py": NEW_NODES,
    "src/demo/pipelines/training/pipeline.py": '"""Wiring."""\n\nNODES = ["train_model"]  # v3\n',
    "src/demo/pipelines/evaluation/nodes.py": '"""Evaluation."""\n\nNEW = 1\n',
    "conf/base/catalog.yml": NEW_CATALOG,
    "conf/base/catalog_mlops.yml": NEW_MLOPS,
    "conf/base/parameters_training.yml": "training:\n  hidden_sizes: [64, 32]\n",
}


def tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        write(root, relative, text)
    return root


@pytest.fixture
def plugin_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A v0.2.0-shaped project after a team's edits, and both renders: (project, old, new)."""
    old = tree(tmp_path / "old", OLD_TREE)
    new = tree(tmp_path / "new", NEW_TREE)
    project = tree(tmp_path / "project", OLD_TREE)
    write(project, ".copier-answers.yml", "_commit: v0.2.0\npackage_name: demo\n")
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Initial project")
    write(project, "src/demo/serving/export.py", OLD_TREE["src/demo/serving/export.py"] + HELPER)
    write(project, "src/demo/serving_model.py", '"""The network."""\n\nLAYERS = ["GELU"]\n')
    write(project, "src/demo/serving/team_probe.py", "from demo.serving.export import export\n")
    write(project, "src/demo/pipelines/training/nodes.py", OLD_NODES + TEAM_HELPER)
    write(project, "conf/base/catalog.yml", TEAM_CATALOG)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team edits")
    return project, old, new


def migrate(plugin_project) -> list[str]:
    project, old, new = plugin_project
    return v0_3_0.before(project, old, new, PATTERNS, "v0.2.0")


def test_before_removes_unedited_modules_and_moves_edited_ones_aside(plugin_project):
    project = plugin_project[0]
    messages = migrate(plugin_project)
    for gone in ("preprocessor.py", "serving/__init__.py", "pipelines/training/trainer.py"):
        assert not (project / "src/demo" / gone).exists(), gone
    assert not (project / "tests/serving").exists(), "an unedited template test goes too"
    aside = project / "migrated-v0.3.0"
    assert (aside / "src/demo/serving/export.py").read_text().endswith(HELPER)
    assert (aside / "src/demo/serving_model.py").read_text().endswith('["GELU"]\n')
    readme = (aside / "README.md").read_text()
    export = readme.split("## src/demo/serving/export.py\n", 1)[1].split("\n## ")[0]
    assert "`migrated-v0.3.0/src/demo/serving/export.py`" in export
    assert "`kedro_mlops_kit.serving.export`" in export and "kedro serving" in export
    assert "+def team_helper(frame):" in export, "the README shows the team's edit"
    network = readme.split("## src/demo/serving_model.py\n", 1)[1].split("\n## ")[0]
    assert "build_model" in network and "src/demo/model.py" in network
    assert '+LAYERS = ["GELU"]' in network
    # The team's own file in a folder the template emptied stays (and is reported).
    assert (project / "src/demo/serving/team_probe.py").exists()
    assert any("src/demo/serving/team_probe.py" in message for message in messages)
    assert any("src/demo/preprocessor.py" in m and "unedited" in m for m in messages)
    assert sum("moved your edited" in message for message in messages) == 2


def test_before_puts_the_teams_additions_on_the_new_nodes(plugin_project):
    project = plugin_project[0]
    messages = migrate(plugin_project)
    nodes = (project / "src/demo/pipelines/training/nodes.py").read_text()
    assert nodes.startswith(NEW_NODES.split("\n\n\ndef ")[0]), "v0.3.0's imports come first"
    assert 'def train_model(data, params):\n    """Train the network' in nodes
    assert nodes.endswith(TEAM_HELPER), "the helper, as the team wrote it, at the end"
    # What the helper reads comes along: the import (now from the plugin) and the logger.
    assert "import logging\n" in nodes
    assert "from kedro_mlops_kit.preprocessor import Preprocessor\n" in nodes
    assert "logger = logging.getLogger(__name__)\n" in nodes
    assert "from .trainer import" not in nodes, "unused old imports stay out"
    compile(nodes, "nodes.py", "exec")
    # Unedited team-owned files become v0.3.0's; unchanged ones are left alone.
    assert (project / "src/demo/pipelines/training/pipeline.py").read_text().endswith("# v3\n")
    assert (project / "src/demo/pipelines/evaluation/nodes.py").read_text().endswith("NEW = 1\n")
    assert any("merged your edits of src/demo/pipelines/training/nodes.py" in m for m in messages)
    readme = (project / "migrated-v0.3.0/README.md").read_text()
    assert "## src/demo/pipelines/training/nodes.py\n" in readme and "team_helper" in readme


def test_before_keeps_a_pipeline_folder_whose_edits_cannot_merge(plugin_project):
    project, old, new = plugin_project
    changed = OLD_NODES.replace('logger.info("training")', 'logger.info("our training")')
    write(project, "src/demo/pipelines/training/nodes.py", changed)
    messages = migrate(plugin_project)
    folder = project / "src/demo/pipelines/training"
    assert (folder / "nodes.py").read_text() == changed, "the team's version stays"
    assert (folder / "pipeline.py").read_text() == OLD_TREE[
        "src/demo/pipelines/training/pipeline.py"
    ]
    template = project / "migrated-v0.3.0/template/src/demo/pipelines/training"
    assert (template / "nodes.py").read_text() == NEW_NODES
    assert (template / "pipeline.py").read_text().endswith("# v3\n")
    readme = (project / "migrated-v0.3.0/README.md").read_text()
    assert "## src/demo/pipelines/training/\n" in readme
    assert "port them to `build_model` in `src/demo/model.py`" in readme
    assert '+    logger.info("our training")' in readme
    assert any("kept your edited src/demo/pipelines/training/" in m for m in messages)
    assert migrate(plugin_project) == [], "a second run must change nothing"


def test_before_splits_the_catalog_keeping_the_teams_entries_and_comments(plugin_project):
    project = plugin_project[0]
    messages = migrate(plugin_project)
    catalog = (project / "conf/base/catalog.yml").read_text()
    assert catalog == (
        "# ---------- data_processing ----------\n"
        "# Our weekly export.\n"
        "raw_data:\n"
        "  type: pandas.CSVDataset\n"
        "  filepath: data/01_raw/churn.csv  # not the default data\n"
        "\n"
        "# Batches the team checks by hand.\n"
        "team_batches:\n"
        "  type: demo.drift.dataset.ProductionBatchDataset\n"
        "  filepath: data/09_team/batches.csv\n"
    )
    kept = (project / "migrated-v0.3.0/conf/base/catalog.yml").read_text()
    assert (
        "drift_report:\n  type: json.JSONDataset\n  filepath: reports/drift_report.json\n" in kept
    )
    readme = (project / "migrated-v0.3.0/README.md").read_text()
    assert "## conf/base/catalog.yml: drift_report\n" in readme
    assert "+  filepath: reports/drift_report.json" in readme
    assert any("took out 2 entries" in m and "model, drift_detector" in m for m in messages)
    assert any(
        "drift_report" in m and "migrated-v0.3.0/conf/base/catalog.yml" in m for m in messages
    )


def test_before_replaces_an_unedited_catalog(plugin_project):
    project = plugin_project[0]
    write(project, "conf/base/catalog.yml", OLD_CATALOG)
    migrate(plugin_project)
    assert (project / "conf/base/catalog.yml").read_text() == NEW_CATALOG


def test_before_is_idempotent(plugin_project):
    project = plugin_project[0]
    migrate(plugin_project)
    files = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    assert migrate(plugin_project) == []
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == files


def test_after_points_the_teams_code_and_conf_at_the_plugin(plugin_project):
    project = plugin_project[0]
    migrate(plugin_project)
    write(project, "Makefile", "drift:\n\tpython -m demo.drift --batch x.csv\n")
    messages = v0_3_0.after(project)
    assert (project / "src/demo/serving/team_probe.py").read_text() == (
        "from kedro_mlops_kit.serving.export import export\n"
    )
    catalog = (project / "conf/base/catalog.yml").read_text()
    assert "type: kedro_mlops_kit.drift.dataset.ProductionBatchDataset" in catalog
    assert "# Our weekly export.\n" in catalog
    readme = (project / "migrated-v0.3.0/README.md").read_text()
    assert "- `Makefile:2`: python -m demo.drift --batch x.csv" in readme
    assert any(m.startswith("pointed src/demo/serving/team_probe.py") for m in messages)
    assert any(m.startswith("still naming moved modules") and "Makefile:2" in m for m in messages)
    assert [m for m in v0_3_0.after(project) if not m.startswith("still")] == []


IMPORTS = '''\
"""A team module."""

from __future__ import annotations

from unittest import mock

from demo import distributed
from demo.pipelines.evaluation import gate, nodes
from demo.serving.export import export as export_onnx
import demo.serving.client as client
from ... import tasks, settings
from ...preprocessor import (
    Preprocessor,  # the fitted state
)
from .trainer import LoopSettings, train_loop
from .nodes import train_model


def lazy():
    """Imports inside functions move too; `python -m` commands and plain modules do not."""
    from ...drift.cli import main

    command = "python -m demo.drift.cli"
    with mock.patch("demo.serving.export.export"):
        return main, command, nodes
'''
MOVED_IMPORTS = '''\
"""A team module."""

from __future__ import annotations

from unittest import mock

from kedro_mlops_kit import distributed
from demo.pipelines.evaluation import nodes
from kedro_mlops_kit.evaluation import gate
from kedro_mlops_kit.serving.export import export as export_onnx
import kedro_mlops_kit.serving.client as client
from ... import settings
from kedro_mlops_kit import tasks
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.training.trainer import LoopSettings, train_loop
from .nodes import train_model


def lazy():
    """Imports inside functions move too; `python -m` commands and plain modules do not."""
    from kedro_mlops_kit.drift.cli import main

    command = "python -m demo.drift.cli"
    with mock.patch("kedro_mlops_kit.serving.export.export"):
        return main, command, nodes
'''


def test_rewrite_imports_follows_relative_absolute_and_dotted_names():
    path = "src/demo/pipelines/training/helpers.py"
    moved, names = project_edits.rewrite_imports(IMPORTS, path, "demo", v0_3_0.MODULES)
    assert moved == MOVED_IMPORTS
    assert "demo.preprocessor" in names and "demo.pipelines.training.trainer" in names
    assert project_edits.rewrite_imports(moved, path, "demo", v0_3_0.MODULES) == (moved, [])


def test_rewrite_dotted_leaves_yaml_comments_alone():
    text = "# by `python -m demo.drift`, see demo.drift.dataset\nx:\n  type: demo.drift.dataset.A\n"
    moved, _ = project_edits.rewrite_dotted(text, "demo", v0_3_0.MODULES, yaml=True)
    assert moved == text.replace("type: demo.", "type: kedro_mlops_kit.")
    assert (
        project_edits.rewrite_dotted(
            "demo_extra.drift demo.pipelines.drift", "demo", v0_3_0.MODULES
        )[1]
        == []
    )


def test_merge_python_additions_refuses_changed_or_deleted_template_code():
    changed = OLD_NODES.replace("Train.", "Train ours.")
    assert project_edits.merge_python_additions(OLD_NODES, changed, NEW_NODES) is None
    deleted = OLD_NODES.split("\n\ndef train_model")[0] + "\n"
    assert project_edits.merge_python_additions(OLD_NODES, deleted, NEW_NODES) is None
    clash = OLD_NODES + "\n\ndef helper():\n    pass\n"
    assert project_edits.merge_python_additions(OLD_NODES, clash, NEW_NODES + clash[-30:]) is None
    merged, names, missing = project_edits.merge_python_additions(
        OLD_NODES, OLD_NODES + "\n\ndef uses_gone():\n    return undefined_thing()\n", NEW_NODES
    )
    assert names == ["uses_gone"] and missing == ["undefined_thing"]


def test_catalog_entries_and_their_comments():
    entries = project_edits.catalog_entries(TEAM_CATALOG)
    assert list(entries) == ["raw_data", "model", "drift_detector", "drift_report", "team_batches"]
    assert project_edits.catalog_entry(TEAM_CATALOG, "model", with_comments=True) == (
        "# ---------- training ----------\n# The trained module.\n"
        "model:\n  type: pickle.PickleDataset\n  filepath: data/06_models/model.pkl\n"
    )
    removed = project_edits.remove_catalog_entries(
        TEAM_CATALOG, {"model": False, "team_batches": True}
    )
    assert "model:" not in removed and "team_batches" not in removed
    assert "# The trained module.\n\n# ---------- drift" in removed, "the team's comments stay"
    assert "\n\n\n" not in removed and removed.endswith("drift_report.json\n")


def test_readme_sections_are_added_once(tmp_path):
    readme = project_edits.AsideReadme(tmp_path, "aside", "# Header\n")
    assert readme.add("a.py", "First.") and not readme.add("a.py", "Again.")
    assert readme.has("a.py") and not readme.has("b.py")
    assert (tmp_path / "aside/README.md").read_text() == "# Header\n\n## a.py\n\nFirst.\n"


def test_wildmatch_reads_copiers_patterns():
    owned = project_edits.wildmatch(PATTERNS + ["conf/local/*"])
    assert owned.match("src/demo/pipelines/training/nodes.py")
    assert owned.match("src/demo/pipelines/training/sub/deep.py")
    assert owned.match("conf/base/parameters_training.yml") and owned.match("conf/local/x.yml")
    assert not owned.match("src/demo/pipelines/drift/pipeline.py")
    assert not owned.match("conf/base/catalog_mlops.yml")


def test_team_owned_patterns_come_from_the_templates_copier_yml():
    patterns = v0_3_0.team_owned_patterns(ROOT, "churn")
    assert "conf/base/catalog.yml" in patterns
    assert "src/churn/pipelines/training/**" in patterns


def test_v0_2_0_after_skips_edits_of_files_a_later_version_removed(project):
    """From v0.1.0 both migrations run: the detector's nodes left with v0.3.0's `before`."""
    copier_moves_the_folder(project)
    (project / NEW / "nodes.py").unlink()  # v0.3.0 renders no nodes.py there
    messages = v0_2_0.after(project)
    assert (project / NEW / "team_checks.py").exists(), "the team's own file still moves"
    assert not (project / NEW / "nodes.py").exists()
    assert not list(project.rglob("*.rej"))
    assert any(m.startswith(f"not carried: your edits of {OLD}/nodes.py") for m in messages)


def test_script_after_reports_or_says_nothing_to_do(plugin_project):
    project = plugin_project[0]
    script = str(MIGRATIONS / "v0_3_0.py")
    done = subprocess.run(
        [sys.executable, script, "after"], cwd=project, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("migration v0.3.0 (after): pointed ")
    again = subprocess.run(
        [sys.executable, script, "after"], cwd=project, capture_output=True, text=True, check=True
    )
    assert again.stdout == "migration v0.3.0 (after): nothing to do\n"


# Old modules that became commands of the plugin, not modules of it.
COMMANDS = {"drift.__main__"}


def plugin_source(module: str) -> Path | None:
    """The plugin's file for a dotted module name (a module or a package), if any."""
    base = KIT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_every_plugin_module_the_migration_names_exists():
    missing = [target for target in v0_3_0.MODULES.values() if plugin_source(target) is None]
    assert missing == [], "MODULES names plugin modules that do not exist"


def test_every_module_a_release_rendered_and_head_drops_has_a_home(tmp_path):
    """Import rewriting and the README need each dropped module's place in the plugin."""
    import copier
    from conftest import render
    from releases import releases, tagged_clone

    clone = tagged_clone(tmp_path / "template")
    head = project_edits.tree_files(render(tmp_path / "HEAD", skip_tasks=True))
    homeless = []
    for release in releases():
        old = tmp_path / release.version
        copier.run_copy(
            str(clone), str(old), defaults=True, vcs_ref=release.version, quiet=True,
            unsafe=True, skip_tasks=True,
        )  # fmt: skip
        for name in sorted(project_edits.tree_files(old) - head):
            module = v0_3_0._module_of(name, "tabular_mlops")
            wiring = module is not None and module.startswith("pipelines.monitoring")
            if module is None or module in COMMANDS or (wiring and not module.endswith("nodes")):
                continue
            home = project_edits.plugin_module(
                f"tabular_mlops.{module}", "tabular_mlops", v0_3_0.MODULES
            )
            if home is None or plugin_source(home) is None:
                homeless.append(f"{release.version}: {name} -> {home}")
    assert homeless == []


def test_the_teams_own_modules_in_a_moved_package_keep_their_names():
    local = frozenset({"demo", "demo.serving.custom", "demo.pipelines", "demo.pipelines.training"})
    text = (
        "from demo.serving import custom, export\n"
        "from demo.serving.custom import helper\n"
        "from .trainer import train_loop\n"
        'PATCHED = "demo.serving.custom.helper"\n'
    )
    path = "src/demo/pipelines/training/nodes.py"
    moved, _ = project_edits.rewrite_imports(text, path, "demo", v0_3_0.MODULES, local)
    assert moved == (
        "from demo.serving import custom\n"
        "from kedro_mlops_kit.serving import export\n"
        "from demo.serving.custom import helper\n"
        "from kedro_mlops_kit.training.trainer import train_loop\n"
        'PATCHED = "demo.serving.custom.helper"\n'
    )


def test_after_tidies_what_the_migration_wrote_with_the_projects_ruff(plugin_project):
    import shutil

    project = plugin_project[0]
    migrate(plugin_project)
    ruff = project / ".venv/bin/ruff"
    ruff.parent.mkdir(parents=True)
    ruff.symlink_to(shutil.which("ruff"))
    messages = v0_3_0.after(project)
    nodes = (project / "src/demo/pipelines/training/nodes.py").read_text()
    assert nodes.index("import logging") < nodes.index("from kedro_mlops_kit.training.fit")
    assert nodes.endswith(TEAM_HELPER), "formatting keeps the team's code as it was"
    assert any(m.startswith("sorted imports and formatted") and "nodes.py" in m for m in messages)


def test_after_reports_datasets_that_two_catalog_files_define(plugin_project):
    project = plugin_project[0]
    migrate(plugin_project)
    write(project, "conf/base/catalog_mlops.yml", NEW_MLOPS)
    write(project, "conf/base/catalog_models.yml", "model:\n  type: pickle.PickleDataset\n")
    messages = v0_3_0.after(project)
    assert (
        "datasets defined twice (Kedro refuses them; see README): model in "
        "conf/base/catalog_mlops.yml, conf/base/catalog_models.yml"
    ) in messages
    assert "## Datasets defined twice\n" in (project / "migrated-v0.3.0/README.md").read_text()


# ---------------------------------------------------------------- v0.4.0: real tables

spec = importlib.util.spec_from_file_location("v0_4_0", MIGRATIONS / "v0_4_0.py")
v0_4_0 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v0_4_0)

V03_NODES = '''\
"""Nodes of the evaluation pipeline."""


def evaluate(model, test_set, preprocessor):
    """Metrics."""
    return score(model, test_set, preprocessor["target"])
'''
V04_NODES = '''\
"""Nodes of the evaluation pipeline."""


def evaluate(model, test_set, preprocessor):
    """Metrics."""
    return score(model, test_set, preprocessor.target)
'''
V03_CATALOG = """\
raw_data:
  type: pandas.CSVDataset
  filepath: data/01_raw/dataset.csv

train_set:
  type: pandas.ParquetDataset
  filepath: data/05_model_input/train.parquet

test_set:
  type: pandas.ParquetDataset
  filepath: data/05_model_input/test.parquet

preprocessor:
  type: json.JSONDataset
  filepath: data/04_feature/preprocessor.json
"""
V04_CATALOG = """\
raw_data:
  type: kedro_mlops_kit.table.TableDataset
  filepath: data/01_raw/dataset.csv

train_set:
  type: kedro_mlops_kit.table.TableDataset
  filepath: data/05_model_input/train.parquet

test_set:
  type: kedro_mlops_kit.table.TableDataset
  filepath: data/05_model_input/test.parquet

# The schema every run enforces.
table_schema:
  type: kedro_mlops_kit.schema.SchemaDataset
  filepath: conf/base/schema.yml

preprocessor:
  type: pickle.PickleDataset
  filepath: data/04_feature/preprocessor.pkl
"""
V04_PATTERNS = [
    "conf/base/catalog.yml",
    "src/demo/model.py",
    "src/demo/pipelines/evaluation/**",
    "src/demo/pipelines/training/**",
]


@pytest.fixture
def real_tables_project(tmp_path):
    old = tree(
        tmp_path / "old",
        {
            "src/demo/pipelines/evaluation/nodes.py": V03_NODES,
            "src/demo/pipelines/training/nodes.py": V03_NODES.replace("evaluation", "training"),
            "src/demo/model.py": "def build_model():\n    return 1\n",
            "conf/base/catalog.yml": V03_CATALOG,
        },
    )
    new = tree(
        tmp_path / "new",
        {
            "src/demo/pipelines/evaluation/nodes.py": V04_NODES,
            "src/demo/pipelines/training/nodes.py": V04_NODES.replace("evaluation", "training"),
            "src/demo/model.py": "def build_model():\n    return 2\n",
            "conf/base/catalog.yml": V04_CATALOG,
        },
    )
    project = tree(
        tmp_path / "project",
        {
            # Unedited: becomes v0.4.0's.
            "src/demo/pipelines/evaluation/nodes.py": V03_NODES,
            # Edited where v0.4.0 did not change it: merged.
            "src/demo/pipelines/training/nodes.py": V03_NODES.replace("evaluation", "training")
            + TEAM_HELPER,
            # Edited on the very line v0.4.0 changed: kept, v0.4.0's goes aside.
            "src/demo/model.py": "def build_model():\n    return 3\n",
            "conf/base/catalog.yml": V03_CATALOG.replace("dataset.csv", "customers.csv").replace(
                "test.parquet\n", "test.parquet\n  save_args: {compression: gzip}\n"
            )
            + "\nteam_table:\n  type: pandas.CSVDataset\n  filepath: data/team.csv\n",
        },
    )
    return project, old, new


def test_v0_4_0_updates_merges_or_keeps_the_teams_files(real_tables_project):
    project, old, new = real_tables_project
    messages = v0_4_0.before(project, old, new, V04_PATTERNS, "v0.3.0")
    evaluation = project / "src/demo/pipelines/evaluation/nodes.py"
    assert evaluation.read_text() == V04_NODES
    training = (project / "src/demo/pipelines/training/nodes.py").read_text()
    assert "preprocessor.target" in training and training.endswith(TEAM_HELPER)
    assert (project / "src/demo/model.py").read_text().endswith("return 3\n"), "kept"
    aside = project / "migrated-v0.4.0"
    assert (aside / "template/src/demo/model.py").read_text().endswith("return 2\n")
    readme = (aside / "README.md").read_text()
    assert "## src/demo/model.py" in readme and "## src/demo/pipelines/training/nodes.py" in readme
    catalog = (project / "conf/base/catalog.yml").read_text()
    # The team's values and entries stay; the new dataset is added; changed ones replaced
    # where the team left them as rendered (and always the preprocessor, which code needs).
    assert "customers.csv" in catalog and "team_table:" in catalog
    assert "# The schema every run enforces.\ntable_schema:" in catalog
    assert "pickle.PickleDataset" in catalog and "json.JSONDataset" not in catalog
    assert "table.TableDataset\n  filepath: data/05_model_input/train.parquet" in catalog
    assert "pandas.CSVDataset\n  filepath: data/01_raw/customers.csv" in catalog
    assert "test.parquet\n  save_args: {compression: gzip}" in catalog
    assert "## conf/base/catalog.yml: raw_data" in readme and "chunk at a time" in readme
    assert any("added table_schema; replaced train_set, preprocessor" in m for m in messages)
    assert any("schema.yml does not exist yet" in m for m in messages)
    # Idempotent: a second run changes nothing.
    before = {p: p.read_text() for p in project.rglob("*") if p.is_file()}
    v0_4_0.before(project, old, new, V04_PATTERNS, "v0.3.0")
    assert {p: p.read_text() for p in project.rglob("*") if p.is_file()} == before


def test_v0_4_0_leaves_team_files_to_the_v0_3_0_migration_for_older_projects(real_tables_project):
    """From v0.1/v0.2, the v0.3.0 migration already merged the team's files onto this version."""
    project, old, new = real_tables_project
    messages = v0_4_0.before(project, old, new, V04_PATTERNS, "v0.2.0")
    assert (project / "src/demo/pipelines/evaluation/nodes.py").read_text() == V03_NODES
    assert not (project / "migrated-v0.4.0" / "template").exists()
    assert any("added table_schema" in m for m in messages), "the catalog is still synced"
