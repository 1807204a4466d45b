"""The one champion lookup (kedro_mlops_kit.registry) that export, rollback and others use."""

import pytest
from mlflow import MlflowClient

from kedro_mlops_kit.registry import (
    CHALLENGER,
    AliasNotFoundError,
    alias_version,
    champion_version,
)
from kedro_mlops_kit.serving.errors import ModelContractError
from kedro_mlops_kit.serving.registry import resolve_alias

from .conftest import MODEL_NAME


def test_champion_version_is_the_aliased_registry_entry(registry):
    champion = champion_version(MODEL_NAME)
    assert str(champion.version) == "2"
    assert champion.run_id
    assert str(alias_version(MODEL_NAME, CHALLENGER, MlflowClient()).version) == "1"
    assert resolve_alias(MODEL_NAME, "champion") == 2


@pytest.mark.parametrize(
    ("model_name", "alias"), [("never_registered", "champion"), (MODEL_NAME, "nope")]
)
def test_missing_model_or_alias_is_a_lookup_error_with_the_fix(registry, model_name, alias):
    with pytest.raises(AliasNotFoundError, match="make repro") as caught:
        alias_version(model_name, alias)
    assert isinstance(caught.value, LookupError)
    assert (caught.value.model_name, caught.value.alias) == (model_name, alias)
    with pytest.raises(ModelContractError, match=f"no '{alias}' alias"):
        resolve_alias(model_name, alias)


def test_registry_module_imports_no_mlflow():
    import subprocess
    import sys

    code = "import sys, kedro_mlops_kit.registry; print('mlflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.strip() == "False"
