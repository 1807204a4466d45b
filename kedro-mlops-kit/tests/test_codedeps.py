import importlib
import sys

import pytest

from kedro_mlops_kit.codedeps import imported_files, manifest, plugin_folder, write_manifests


@pytest.fixture
def team_package(tmp_path, monkeypatch):
    """depspkg: a pipeline node module importing a helper (relative) and the plugin."""
    pkg = tmp_path / "depspkg"
    (pkg / "pipelines" / "training").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "pipelines" / "__init__.py").write_text("")
    (pkg / "pipelines" / "training" / "__init__.py").write_text("")
    (pkg / "model.py").write_text("from kedro_mlops_kit.serving_model import build_mlp\n")
    (pkg / "unused.py").write_text("X = 1\n")
    (pkg / "helpers.py").write_text("import json\nVALUE = 2\n")
    (pkg / "pipelines" / "training" / "nodes.py").write_text(
        "from ...model import build_mlp\nfrom ... import helpers\nimport numpy\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("depspkg")]:
        del sys.modules[name]


def test_follows_relative_and_plugin_imports_only(team_package):
    packages = {"depspkg": team_package / "depspkg", "kedro_mlops_kit": plugin_folder()}
    files = imported_files({"depspkg.pipelines.training.nodes"}, packages)
    assert {"depspkg.model", "depspkg.helpers", "depspkg.pipelines.training.nodes"} <= set(files)
    assert "depspkg.unused" not in files
    assert "kedro_mlops_kit.serving_model" in files
    assert not any(name.startswith("numpy") for name in files)


def test_manifest_changes_exactly_when_imported_code_changes(team_package):
    modules = {"depspkg.pipelines.training.nodes"}
    package_dir = team_package / "depspkg"
    before = manifest(modules, "depspkg", package_dir, team_package)
    assert "depspkg/helpers.py" in before
    (team_package / "depspkg" / "unused.py").write_text("X = 3\n")
    assert manifest(modules, "depspkg", package_dir, team_package) == before
    (team_package / "depspkg" / "helpers.py").write_text("VALUE = 3\n")
    after = manifest(modules, "depspkg", package_dir, team_package)
    assert after != before
    assert after.splitlines()[0].startswith("# kedro-mlops-kit ")


def test_one_manifest_per_pipeline_folder_without_importing_it(team_package):
    (team_package / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "depspkg"\nsource_dir = "."\n'
    )
    training = team_package / "depspkg" / "pipelines" / "training"
    (training / "pipeline.py").write_text("from .nodes import build_mlp\n")
    # Importing this pipeline would fail: the manifest must come from reading files only.
    (training / "__init__.py").write_text("raise ImportError('never imported')\n")
    written = write_manifests(team_package, team_package / ".code-deps")
    assert [p.name for p in written] == ["training.txt"]
    text = written[0].read_text()
    assert "depspkg/model.py" in text and "depspkg/pipelines/training/nodes.py" in text
    assert "kedro_mlops_kit.serving_model" in text
    assert "sys.modules" not in text and "depspkg" not in sys.modules
