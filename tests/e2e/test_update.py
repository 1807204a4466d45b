"""End-to-end tier: `copier update` from every released version keeps a team's work.

For each release in releases.yml: render the project at that tag, commit, make the edits a team
makes (parameters and the architecture, a README section, helpers in node modules and in a
template module, catalog entries, a Make target, a CI job, a pipeline of its own), commit,
update to the working tree's template, and check that nothing was lost, the migrations ran, and
the updated project still passes its own tests and runs its DVC pipeline.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import copier
import pytest
import yaml
from packaging.version import Version
from projects import Project
from releases import ROOT, Release, git, releases, tagged_clone

pytestmark = pytest.mark.e2e

HELPER = '''

def team_helper(frame):
    """Drop the rows the team's upstream export marks as test traffic."""
    return frame[frame.index >= 0]
'''
EXPORT_HELPER = '''

def team_export_note() -> str:
    """The team's own helper, added inside a template module."""
    return "exported by the churn team"
'''
README_SECTION = "\n## Our data contract\n\nThe churn team owns `data/01_raw/dataset.csv`.\n"
NEW_PARAMETER = "  max_grad_norm: 1.0  # the team's own knob\n"
TEAM_HIDDEN_SIZES = "hidden_sizes: [32, 16]"
TEAM_SAVE_ARGS = "  save_args: {compression: gzip}\n"
CATALOG_ENTRY = """
# The team's own dataset: raw row count written by the team_features pipeline.
team_row_count:
  type: json.JSONDataset
  filepath: data/08_reporting/team_row_count.json
"""
MAKE_TARGET = """
team-features: ## Count the raw rows with the team's own pipeline
\t.venv/bin/kedro run --pipeline team_features
"""
GITLAB_JOB = """
# The team's own job.
team-features:
  stage: test
  extends: [.uv]
  script:
    - make team-features
"""
# The team's own pipeline. Its node imports a module that v0.3.0 moves to the plugin.
TEAM_PIPELINE = {
    "__init__.py": '''"""The team's feature pipeline."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
''',
    "nodes.py": '''"""Nodes of the team's feature pipeline."""

from __future__ import annotations

import pandas as pd

from ...tasks import CLASSIFICATION


def count_rows(raw_data: pd.DataFrame) -> dict[str, object]:
    """Count the raw rows; name the task the team trains for."""
    return {"rows": len(raw_data), "task": CLASSIFICATION}
''',
    "pipeline.py": '''"""The team's feature pipeline: one node."""

from kedro.pipeline import Node, Pipeline

from .nodes import count_rows


def create_pipeline(**kwargs) -> Pipeline:
    """Count the raw rows."""
    return Pipeline([Node(count_rows, "raw_data", "team_row_count", name="count_rows")])
''',
}
# From this release on the machinery is the plugin's: older projects move onto it on update.
PLUGIN_RELEASE = Version("v0.3.0")
MODEL_HELPER = '''

def team_layer_note() -> str:
    """The team's note on its architecture, kept in model.py."""
    return "GELU was tried and dropped"
'''
TEAM_TEST = '''"""The team's test of its own pipeline."""

import pandas as pd

from {package}.pipelines.team_features.nodes import count_rows


def test_count_rows():
    assert count_rows(pd.DataFrame({{"a": [1, 2, 3]}})) == {{"rows": 3, "task": "classification"}}
'''


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A clone of this repository tagged from releases.yml, the working tree at its HEAD.

    When copier.yml has migrations for a version newer than every release (the version being
    prepared), HEAD carries that tag: copier runs a migration only up to the target version.
    """
    clone = tagged_clone(tmp_path_factory.mktemp("template") / "copier-kedro-mlops")
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    upcoming = max((m["version"] for m in config.get("_migrations", [])), key=Version)
    if all(Version(upcoming) > Version(release.version) for release in releases()):
        git("tag", upcoming, "HEAD", cwd=clone)
    return clone


def commit_all(project: Path, message: str) -> None:
    git("add", "--all", cwd=project)
    identity = ["-c", "user.name=team", "-c", "user.email=team@localhost"]
    git(*identity, "commit", "--quiet", "--no-verify", "-m", message, cwd=project)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def drift_detector_files(project: Path, package: str) -> tuple[Path, Path]:
    """The detector pipeline's parameter file and node module, under either release's name."""
    for name in ("drift_detector", "monitoring"):
        parameters = project / "conf" / "base" / f"parameters_{name}.yml"
        if parameters.exists():
            return parameters, project / "src" / package / "pipelines" / name / "nodes.py"
    raise AssertionError("no drift detector parameters in the rendered project")


def make_team_edits(project: Path, package: str, before_plugin: bool) -> str:
    """The edits a team typically makes in its first weeks, committed.

    ``before_plugin``: the release renders the machinery into the package (before v0.3.0),
    where a team edits it. Returns the detector's node module path, relative to the project
    (its name depends on the release).
    """
    src = project / "src" / package
    training = project / "conf" / "base" / "parameters_training.yml"
    text = training.read_text()
    assert "hidden_sizes: [64, 32]" in text, "the default architecture changed: update this test"
    training.write_text(text.replace("hidden_sizes: [64, 32]", TEAM_HIDDEN_SIZES) + NEW_PARAMETER)
    detector_parameters, detector_nodes = drift_detector_files(project, package)
    detector_parameters.write_text(
        detector_parameters.read_text().replace("p_val: 0.05", "p_val: 0.01")
    )
    append(src / "pipelines" / "training" / "nodes.py", HELPER)
    if before_plugin:
        append(detector_nodes, HELPER)
        append(src / "serving" / "export.py", EXPORT_HELPER)
        # A changed architecture: another activation in the MLP the old release builds.
        serving_model = src / "serving_model.py"
        text = serving_model.read_text()
        assert "nn.ReLU()" in text, "the old release's MLP changed: update this test"
        serving_model.write_text(text.replace("nn.ReLU()", "nn.GELU()"))
    else:
        append(src / "model.py", MODEL_HELPER)
    append(project / "README.md", README_SECTION)
    catalog = project / "conf" / "base" / "catalog.yml"
    text = catalog.read_text()
    entry = "filepath: data/05_model_input/test.parquet\n"
    assert entry in text, "the catalog's test_set entry changed: update this test"
    catalog.write_text(text.replace(entry, entry + TEAM_SAVE_ARGS) + CATALOG_ENTRY)
    append(project / "Makefile", MAKE_TARGET)
    append(project / ".gitlab-ci.yml", GITLAB_JOB)
    for name, source in TEAM_PIPELINE.items():
        path = src / "pipelines" / "team_features" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not before_plugin:  # the module is the plugin's already
            source = source.replace("from ...tasks", "from kedro_mlops_kit.tasks")
        path.write_text(source)
    (project / "tests" / "pipelines" / "test_team_features.py").write_text(
        TEAM_TEST.format(package=package)
    )
    commit_all(project, "Team edits")
    return detector_nodes.relative_to(project).as_posix()


def released_kit_source(project: Project, template: Path) -> dict[str, str]:
    """KIT_SOURCE for `make install` before the update: the plugin release the project pins.

    The working tree's plugin is the next version; a project of an earlier release pins its
    own (``kedro-mlops-kit==X``), so it installs the plugin from the template's ``vX`` tag.
    """
    pinned = re.search(
        r"kedro-mlops-kit\[?[^=\]]*\]?==([0-9.]+)", (project.path / "pyproject.toml").read_text()
    )
    if not pinned:
        return {}
    source = project.path.parent / f"kedro-mlops-kit-{pinned.group(1)}"
    if not source.is_dir():
        source.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(template), "archive", f"v{pinned.group(1)}", "kedro-mlops-kit"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    return {"KIT_SOURCE": str(source / "kedro-mlops-kit")}


def update(project: Project, template: Path) -> None:
    """Update to the template's HEAD: with the project's own target where it has one."""
    if "TEMPLATE_VERSION" in (project.path / "Makefile").read_text():
        project.make("install", env=released_kit_source(project, template))
        project.make("update-template", "TEMPLATE_VERSION=HEAD", "COPIER_UPDATE_FLAGS=--defaults")
        return
    copier.run_update(
        str(project.path), vcs_ref="HEAD", defaults=True, overwrite=True, unsafe=True, quiet=True
    )


def leftovers(project: Path) -> list[str]:
    """Files with merge rejects or conflict markers anywhere in the project's git view."""
    files = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=project).splitlines()
    bad = [name for name in files if name.endswith(".rej")]
    for name in files:
        path = project / name
        if path.is_file() and re.search(r"^(<{7}|>{7}) ", path.read_text(errors="replace"), re.M):
            bad.append(name)
    return bad


def package_modules(root: Path, package: str) -> set[str]:
    """The Python modules under ``src/<package>/``, relative to it."""
    base = root / "src" / package
    return {path.relative_to(base).as_posix() for path in base.rglob("*.py")}


@pytest.mark.parametrize(
    "release",
    [
        pytest.param(release, id=release.version, marks=pytest.mark.xdist_group(release.version))
        for release in releases()
    ],
)
def test_update_keeps_team_edits_and_runs_migrations(release: Release, template, tmp_path):
    path = tmp_path / "project"
    copier.run_copy(
        str(template), str(path), defaults=True, unsafe=True, vcs_ref=release.version, quiet=True
    )
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text())
    assert answers["_commit"] == release.version
    package = answers["package_name"]
    before_plugin = Version(release.version) < PLUGIN_RELEASE
    detector_nodes = make_team_edits(path, package, before_plugin)
    project = Project(path, answers)

    update(project, template)

    assert leftovers(path) == [], "the update left rejects or conflict markers"
    updated = yaml.safe_load((path / ".copier-answers.yml").read_text())
    assert updated["_commit"] == git("describe", "--tags", "HEAD", cwd=template)
    src = path / "src" / package
    aside = path / "migrated-v0.3.0"

    # Every team edit is still there, in place or moved aside and listed.
    parameters = (path / "conf/base/parameters_training.yml").read_text()
    assert parameters.endswith(NEW_PARAMETER) and TEAM_HIDDEN_SIZES in parameters
    assert (path / "README.md").read_text().endswith(README_SECTION)
    catalog = (path / "conf/base/catalog.yml").read_text()
    assert "filepath: data/05_model_input/test.parquet\n" + TEAM_SAVE_ARGS in catalog
    # The team's entry stays (the v0.4.0 migration appends the datasets it added after it).
    assert CATALOG_ENTRY in catalog
    assert (path / "Makefile").read_text().endswith(MAKE_TARGET)
    assert (path / ".gitlab-ci.yml").read_text().endswith(GITLAB_JOB)
    team_nodes = (src / "pipelines/team_features/nodes.py").read_text()
    assert "from kedro_mlops_kit.tasks import CLASSIFICATION" in team_nodes, "import rewritten"
    assert "def count_rows" in team_nodes
    assert (src / "pipelines/team_features/pipeline.py").read_text() == (
        TEAM_PIPELINE["pipeline.py"]
    )
    assert (path / "tests/pipelines/test_team_features.py").exists()
    training_nodes = (src / "pipelines/training/nodes.py").read_text()
    assert training_nodes.endswith(HELPER), "the helper stays, on v0.3.0's nodes"
    assert "kedro_mlops_kit" in training_nodes
    if before_plugin:
        # Edits of template-owned modules: moved aside, out of the import path, and listed.
        moved_aside = (aside / "README.md").read_text()
        export = aside / "src" / package / "serving/export.py"
        assert export.read_text().endswith(EXPORT_HELPER)
        assert f"## src/{package}/serving/export.py" in moved_aside
        assert "kedro_mlops_kit.serving.export" in moved_aside
        assert "nn.GELU()" in (aside / "src" / package / "serving_model.py").read_text()
        section = moved_aside.split(f"## src/{package}/serving_model.py\n", 1)[1]
        section = section.split("\n## ")[0]
        assert "build_model" in section
        assert "+        layers += [nn.Linear(width, hidden), nn.GELU()" in section
        assert (aside / detector_nodes).read_text().endswith(HELPER)
        assert f"## {detector_nodes}\n" in moved_aside
    else:
        assert (src / "model.py").read_text().endswith(MODEL_HELPER)
        assert not aside.exists(), "nothing to move aside from a plugin-based release"
    # The template-owned modules left the package: it holds v0.3.0's modules and the team's.
    fresh = tmp_path / "fresh"
    fresh_answers = {key: value for key, value in updated.items() if not key.startswith("_")}
    copier.run_copy(
        str(template),
        str(fresh),
        data=fresh_answers,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
        skip_tasks=True,
    )
    team_modules = {f"pipelines/team_features/{name}" for name in TEAM_PIPELINE}
    assert package_modules(path, package) == package_modules(fresh, package) | team_modules
    assert not (src / "serving").exists() and not (src / "drift").exists()
    # The catalog's template datasets live in catalog_mlops.yml only (Kedro refuses duplicates).
    assert "\nmodel:" not in f"\n{catalog}" and "\ndrift_report:" not in f"\n{catalog}"
    assert "kedro_mlops_kit.drift.dataset" in (path / "conf/base/catalog_mlops.yml").read_text()
    # The v0.2.0 migration moved the detector pipeline's parameters (edits included).
    parameters, _ = drift_detector_files(path, package)
    assert parameters.name == "parameters_drift_detector.yml"
    kept = parameters.read_text()
    assert kept.startswith("# ") and "\ndrift_detector:\n" in kept, "comments and key"
    assert "p_val: 0.01" in kept
    assert not (src / "pipelines" / "monitoring").exists()
    assert not (path / "conf/base/parameters_monitoring.yml").exists()

    # The updated project works: its own tests, its DVC pipeline, the team's own target.
    project.make("install")
    project.make("test")
    project.make("repro")
    project.make("team-features")
    assert '"rows"' in (path / "data/08_reporting/team_row_count.json").read_text()

    # Updating again before the update is committed is refused, and changes nothing.
    before = git("status", "--porcelain", cwd=path)
    refused = project.make("update-template", check=False)
    assert refused.returncode != 0
    assert "uncommitted changes" in refused.stdout
    assert git("status", "--porcelain", cwd=path) == before
