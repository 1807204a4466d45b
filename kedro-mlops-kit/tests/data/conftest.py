"""A minimal Kedro project for the data commands, and the Palmer penguins raw table.

The tiny tables are in ``tests.helpers``.
"""

import os
import sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

PROJECT_PACKAGE = "data_fixture_project"
# kedro-mlflow is installed with the plugin and would register its hooks on a session.
_SETTINGS = """\
from importlib import metadata

DISABLE_HOOKS_FOR_PLUGINS = (metadata.distribution("kedro-mlflow").metadata["Name"],)
"""
_CATALOG = """\
raw_data:
  type: pandas.CSVDataset
  filepath: data/01_raw/dataset.csv
"""


@pytest.fixture(scope="session")
def penguins_raw_file() -> Path:
    """The raw table as the palmerpenguins package ships it (344 rows, 17 columns)."""
    return Path(str(files("palmerpenguins").joinpath("data/penguins-raw.csv")))


@pytest.fixture
def penguins_raw(penguins_raw_file) -> pd.DataFrame:
    return pd.read_csv(penguins_raw_file)


@pytest.fixture
def kedro_project(tmp_path, monkeypatch):
    """Write a minimal Kedro project; call it with the data_processing task to declare.

    ``extra`` lines are appended to the data_processing block; with ``raw`` (a DataFrame) the
    project gets a catalog whose ``raw_data`` is that table as CSV. The project becomes the
    current directory, as for ``kedro data ...`` run from its root.
    """

    def make(task: str | None, extra: str = "", raw: pd.DataFrame | None = None) -> Path:
        package = tmp_path / "src" / PROJECT_PACKAGE
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "settings.py").write_text(_SETTINGS)
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
        (base / "parameters_data_processing.yml").write_text(block + extra)
        if raw is not None:
            (base / "catalog.yml").write_text(_CATALOG)
            (tmp_path / "data" / "01_raw").mkdir(parents=True, exist_ok=True)
            raw.to_csv(tmp_path / "data" / "01_raw" / "dataset.csv", index=False)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    # bootstrap_project prepends the source folder to both; undone after the test.
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield make
    for name in [m for m in sys.modules if m.partition(".")[0] == PROJECT_PACKAGE]:
        del sys.modules[name]
