"""Registry: log_and_register against a throw-away store, and only the needed code travels."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from torch import nn

from kedro_mlops_kit.evaluation import registry
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import ServingModule
from tests.helpers import make_frame, numeric_state, train_tiny

NAME = "test_model"

TEAM_MODEL = '''
"""A team's model.py: the network class lives here."""
from torch import nn


class TeamNet(nn.Module):
    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, n_outputs)

    def forward(self, x):
        return self.linear(x) * 2.0
'''

# Loads the registered model in a fresh interpreter that cannot import the team's package.
LOAD_SCRIPT = """
import importlib.util
import json
import sys

import mlflow
import torch

args = json.loads(sys.argv[1])
assert importlib.util.find_spec(args["package"]) is None, "the package must not be importable"
model = mlflow.pytorch.load_model(args["uri"])
with torch.no_grad():
    out = model(torch.tensor(args["x"], dtype=torch.float32))
print(json.dumps({"out": out.tolist(), "class": type(model.network).__module__}))
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A sqlite tracking + registry store with its artifacts under a tmp dir."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        # The environment for the processes started here; set_tracking_uri in case an earlier
        # test left an explicit URI that would win over it.
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        experiment = mlflow.create_experiment("registry", artifact_location=(root / "a").as_uri())
        yield experiment
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def trained():
    model, _ = train_tiny(epochs=2)
    return model


def _state() -> Preprocessor:
    return numeric_state("regression")


def _register(store, model, name: str, accuracy: float) -> str:
    with mlflow.start_run(experiment_id=store):
        return registry.log_and_register(model, name, {"accuracy": accuracy}, ["torch"], {})


def test_log_and_register_tags_and_aliases(store, trained):
    client = MlflowClient()
    assert registry.current_champion(client, NAME) is None, "nothing registered yet"

    first = _register(store, trained, NAME, 0.8)
    assert first == "1"
    version = client.get_model_version(NAME, first)
    assert version.tags == {"task": "classification", "test_accuracy": "0.8"}
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == first
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(NAME, "champion")
    assert registry.current_champion(client, NAME) is None, "a challenger is not a champion"

    registry.promote(NAME, first)
    second = _register(store, trained, NAME, 0.9)
    assert second == "2"
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == second
    champion = registry.current_champion(client, NAME)
    assert champion == registry.Champion(
        version=first, task="classification", metrics={"accuracy": 0.8}
    )


def test_registered_model_loads_with_its_contract(store, trained):
    _register(store, trained, "loadable", 0.5)
    loaded = mlflow.pytorch.load_model("models:/loadable@challenger")
    assert loaded.feature_columns == trained.feature_columns
    assert loaded.task == "classification"
    assert loaded.class_labels == trained.class_labels
    x = torch.randn(4, trained.preprocessor.n_inputs)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), trained(x))
    # The fitted preprocessing travels with the model: it answers raw rows.
    rows = make_frame("classification").head(5)
    np.testing.assert_allclose(loaded.predict_frame(rows), trained.predict_frame(rows))
    signature = mlflow.models.get_model_info("models:/loadable@challenger").signature
    assert signature.outputs.to_dict()[0]["tensor-spec"]["shape"] in ([-1, 2], (-1, 2))


def test_default_requirements_pin_public_versions():
    pins = registry.default_pip_requirements()
    assert [pin.split("==")[0] for pin in pins] == [
        "torch",
        "numpy",
        "mlflow",
        "scikit-learn",
        "pandera",
        "kedro-mlops-kit",
    ]
    assert f"torch=={torch.__version__.split('+')[0]}" in pins
    assert all("+" not in pin for pin in pins), "no local build tags such as +cpu"


def test_torch_and_plugin_classes_need_no_code(tmp_path, trained):
    assert registry.code_paths(trained, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def team_package(tmp_path, monkeypatch):
    """A project package ``teampkg`` (importable here only through sys.path)."""
    source = tmp_path / "src"
    package = source / "teampkg"
    package.mkdir(parents=True)
    # The package's own __init__ imports more than the network needs; it must not travel.
    (package / "__init__.py").write_text("from teampkg.pipelines import everything  # noqa\n")
    (package / "pipelines.py").write_text("everything = 'kedro, pandas, ...'\n")
    (package / "model.py").write_text(textwrap.dedent(TEAM_MODEL))
    monkeypatch.syspath_prepend(str(source))
    import teampkg.model  # noqa: PLC0415

    yield teampkg.model
    for name in [m for m in sys.modules if m == "teampkg" or m.startswith("teampkg.")]:
        monkeypatch.delitem(sys.modules, name)


def test_a_project_class_takes_exactly_its_module(tmp_path, team_package):
    model = ServingModule(team_package.TeamNet(3, 1), _state())
    destination = tmp_path / "code"
    assert registry.code_paths(model, destination) == [str(destination / "teampkg")]
    copied = sorted(str(p.relative_to(destination)) for p in destination.rglob("*") if p.is_file())
    assert copied == ["teampkg/__init__.py", "teampkg/model.py"]
    assert (destination / "teampkg" / "__init__.py").read_text() == ""
    assert (destination / "teampkg" / "model.py").read_text() == textwrap.dedent(TEAM_MODEL)


def test_a_class_outside_any_package_is_refused(tmp_path, monkeypatch):
    (tmp_path / "loose_module.py").write_text(textwrap.dedent(TEAM_MODEL))
    monkeypatch.syspath_prepend(str(tmp_path))
    import loose_module  # noqa: PLC0415

    monkeypatch.setitem(sys.modules, "loose_module", loose_module)
    model = ServingModule(loose_module.TeamNet(3, 1), _state())
    with pytest.raises(ValueError, match=r"TeamNet is defined in 'loose_module'.*model\.py"):
        registry.code_paths(model, tmp_path / "code")


def test_registered_project_model_loads_where_the_project_is_not_installed(
    store, tmp_path, team_package
):
    torch.manual_seed(0)
    model = ServingModule(team_package.TeamNet(3, 1), _state()).eval()
    version = _register(store, model, "team_model", 0.5)
    x = [[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]]
    with torch.no_grad():
        expected = model(torch.tensor(x)).tolist()

    serving = tmp_path / "serving"
    serving.mkdir()
    script = serving / "load.py"
    script.write_text(LOAD_SCRIPT)
    args = {"package": "teampkg", "uri": f"models:/team_model/{version}", "x": x}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), json.dumps(args)],
        cwd=serving,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["class"] == "teampkg.model"
    torch.testing.assert_close(torch.tensor(loaded["out"]), torch.tensor(expected))


def test_classes_of_installed_libraries_are_not_copied(tmp_path, monkeypatch, caplog):
    """A partial copy of an installed library would shadow it when the model loads."""
    site = tmp_path / "site-packages"
    (site / "fakelayers").mkdir(parents=True)
    (site / "fakelayers" / "__init__.py").write_text("")
    (site / "fakelayers" / "blocks.py").write_text(textwrap.dedent(TEAM_MODEL))
    info = site / "fake_layers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-layers\nVersion: 1.0\n")
    (info / "top_level.txt").write_text("fakelayers\n")
    monkeypatch.syspath_prepend(str(site))
    from fakelayers.blocks import TeamNet  # noqa: PLC0415

    model = ServingModule(nn.Sequential(TeamNet(3, 2), TeamNet(2, 1)), _state())
    with caplog.at_level("WARNING", logger=registry.__name__):
        assert registry.code_paths(model, tmp_path / "code") == []
    assert not (tmp_path / "code").exists()
    assert caplog.messages == [
        "TeamNet comes from the installed distribution fake-layers, which is not copied with "
        "the model: the serving environment must install it too."
    ]

    # Unless it is the package of the Kedro project being run (installed without --editable).
    monkeypatch.setattr("kedro.framework.project.PACKAGE_NAME", "fakelayers")
    assert registry.code_paths(model, tmp_path / "code") == [str(tmp_path / "code/fakelayers")]
    assert (tmp_path / "code/fakelayers/blocks.py").exists()
    for name in ("fakelayers", "fakelayers.blocks"):
        monkeypatch.delitem(sys.modules, name)


def test_sub_packages_keep_their_layout(tmp_path, team_package):
    nets = Path(team_package.__file__).parent / "nets"
    nets.mkdir()
    (nets / "__init__.py").write_text(
        "from torch import nn\n\n\nclass Scale(nn.Module):\n"
        "    def forward(self, x):\n        return x\n"
    )
    (nets / "blocks.py").write_text(textwrap.dedent(TEAM_MODEL))
    from teampkg.nets import Scale, blocks  # noqa: PLC0415

    network = nn.Sequential(blocks.TeamNet(3, 1), Scale(), team_package.TeamNet(1, 1))
    destination = tmp_path / "code"
    assert registry.code_paths(ServingModule(network, _state()), destination) == [
        str(destination / "teampkg")
    ]
    copied = {str(p.relative_to(destination)) for p in destination.rglob("*.py")}
    assert copied == {
        "teampkg/__init__.py",
        "teampkg/model.py",
        "teampkg/nets/__init__.py",
        "teampkg/nets/blocks.py",
    }
    assert "class Scale" in (destination / "teampkg/nets/__init__.py").read_text()
    assert (destination / "teampkg/__init__.py").read_text() == ""
