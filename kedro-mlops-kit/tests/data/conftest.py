"""A minimal Kedro project for the data commands (the tiny tables are in ``tests.helpers``)."""

import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

PROJECT_PACKAGE = "data_fixture_project"


@pytest.fixture
def kedro_project(tmp_path, monkeypatch):
    """Write a minimal Kedro project; call it with the data_processing task to declare.

    The project becomes the current directory, as for ``kedro data ...`` run from its root.
    """

    def make(task: str | None) -> Path:
        package = tmp_path / "src" / PROJECT_PACKAGE
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "settings.py").write_text("")
        (tmp_path / "pyproject.toml").write_text(
            "[tool.kedro]\n"
            f'package_name = "{PROJECT_PACKAGE}"\n'
            'project_name = "data-fixture-project"\n'
            f'kedro_init_version = "{metadata.version("kedro")}"\n'
            'source_dir = "src"\n'
        )
        base = tmp_path / "conf" / "base"
        base.mkdir(parents=True, exist_ok=True)
        (tmp_path / "conf" / "local").mkdir(exist_ok=True)
        block = "data_processing:\n  target: target\n" + (f"  task: {task}\n" if task else "")
        (base / "parameters_data_processing.yml").write_text(block)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    # bootstrap_project prepends the source folder to both; undone after the test.
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield make
    for name in [m for m in sys.modules if m.partition(".")[0] == PROJECT_PACKAGE]:
        del sys.modules[name]
