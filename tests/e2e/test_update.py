"""End-to-end tier: `copier update` from every released version keeps a team's work.

For each release in releases.yml: render the project at that tag, commit, make the edits a team
makes (a parameter, a README section, helpers in node modules, a catalog entry), commit, update
to the working tree's template, and check that nothing was lost, the migrations ran, and the
updated project still passes its own tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import copier
import pytest
import yaml
from projects import Project
from releases import Release, git, releases, tagged_clone

pytestmark = pytest.mark.e2e

HELPER = '''

def team_helper(frame):
    """Drop the rows the team's upstream export marks as test traffic."""
    return frame[frame.index >= 0]
'''
README_SECTION = "\n## Our data contract\n\nThe churn team owns `data/01_raw/dataset.csv`.\n"
NEW_PARAMETER = "  max_grad_norm: 1.0  # the team's own knob\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A clone of this repository tagged from releases.yml, the working tree at its HEAD."""
    return tagged_clone(tmp_path_factory.mktemp("template") / "copier-kedro-mlops")


def commit_all(project: Path, message: str) -> None:
    git("add", "--all", cwd=project)
    identity = ["-c", "user.name=team", "-c", "user.email=team@localhost"]
    git(*identity, "commit", "--quiet", "--no-verify", "-m", message, cwd=project)


def drift_detector_files(project: Path, package: str) -> tuple[Path, Path]:
    """The detector pipeline's parameter file and node module, under either release's name."""
    for name in ("drift_detector", "monitoring"):
        parameters = project / "conf" / "base" / f"parameters_{name}.yml"
        if parameters.exists():
            return parameters, project / "src" / package / "pipelines" / name / "nodes.py"
    raise AssertionError("no drift detector parameters in the rendered project")


def make_team_edits(project: Path, package: str) -> None:
    """The edits a team typically makes in its first weeks, committed."""
    training = project / "conf" / "base" / "parameters_training.yml"
    training.write_text(training.read_text() + NEW_PARAMETER)
    detector_parameters, detector_nodes = drift_detector_files(project, package)
    detector_parameters.write_text(
        detector_parameters.read_text().replace("p_val: 0.05", "p_val: 0.01")
    )
    training_nodes = project / "src" / package / "pipelines" / "training" / "nodes.py"
    for nodes in (training_nodes, detector_nodes):
        nodes.write_text(nodes.read_text() + HELPER)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + README_SECTION)
    catalog = project / "conf" / "base" / "catalog.yml"
    text = catalog.read_text()
    entry = "filepath: data/04_feature/preprocessor.json\n  save_args: {indent: 2}"
    assert entry in text, "the catalog's preprocessor entry changed: update this test"
    catalog.write_text(text.replace(entry, entry.replace("indent: 2", "indent: 4")))
    commit_all(project, "Team edits")


def update(project: Project, template: Path) -> None:
    """Update to the template's HEAD: with the project's own target where it has one."""
    if "TEMPLATE_VERSION" in (project.path / "Makefile").read_text():
        project.make("install")
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
    make_team_edits(path, package)
    project = Project(path, answers)

    update(project, template)

    assert leftovers(path) == [], "the update left rejects or conflict markers"
    updated = yaml.safe_load((path / ".copier-answers.yml").read_text())
    assert updated["_commit"] == git("describe", "--tags", "HEAD", cwd=template)
    # Every team edit is still there.
    assert (path / "conf/base/parameters_training.yml").read_text().endswith(NEW_PARAMETER)
    assert (path / "README.md").read_text().endswith(README_SECTION)
    assert "save_args: {indent: 4}" in (path / "conf/base/catalog.yml").read_text()
    assert (path / "src" / package / "pipelines/training/nodes.py").read_text().endswith(HELPER)
    # The v0.2.0 migration moved the detector pipeline's parameters and code, edits included.
    parameters, nodes = drift_detector_files(path, package)
    assert parameters.name == "parameters_drift_detector.yml"
    kept = parameters.read_text()
    assert kept.startswith("# ") and "\ndrift_detector:\n" in kept, "comments and key"
    assert "p_val: 0.01" in kept
    assert nodes.read_text().endswith(HELPER)
    assert not (path / "src" / package / "pipelines" / "monitoring").exists()
    assert not (path / "conf/base/parameters_monitoring.yml").exists()

    # The updated project works: its own tests pass.
    project.make("install")
    project.make("test")

    # Updating again before the update is committed is refused, and changes nothing.
    before = git("status", "--porcelain", cwd=path)
    refused = project.make("update-template", check=False)
    assert refused.returncode != 0
    assert "uncommitted changes" in refused.stdout
    assert git("status", "--porcelain", cwd=path) == before
