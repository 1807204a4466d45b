"""Registry aliases of the MLflow model registry, looked up in one place.

Every part of the plugin that needs "the version the ``champion`` alias points at" (export,
rollback, the promotion gate, the drift job) calls :func:`champion_version` (or
:func:`alias_version` for another alias), so the lookup, and what a missing alias means, is the
same everywhere. MLflow is imported only when a lookup runs: importing this module stays cheap
for command-line ``--help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

CHAMPION = "champion"
CHALLENGER = "challenger"
# What MLflow answers when the registered model or the alias does not exist (sqlite and REST
# stores alike); any other MlflowException (server down, permissions) is not "no alias".
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


class AliasNotFoundError(LookupError):
    """The registered model does not exist, or has no version under the alias."""

    def __init__(self, model_name: str, alias: str, reason: str) -> None:
        super().__init__(
            f"Registered model {model_name!r} has no {alias!r} alias ({reason}). Train and "
            "register a model first (`make repro`), or point the alias at a version with "
            "MlflowClient().set_registered_model_alias(name, alias, version)."
        )
        self.model_name = model_name
        self.alias = alias


def alias_version(model_name: str, alias: str, client: MlflowClient | None = None) -> ModelVersion:
    """Return the registered version ``alias`` points at (an MLflow ``ModelVersion``).

    Raises:
        AliasNotFoundError: No such registered model, or no version carries ``alias``.
        mlflow.exceptions.MlflowException: Any other registry failure (unreachable server...).
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = client or MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if exc.error_code in _NOT_FOUND_CODES:
            raise AliasNotFoundError(model_name, alias, exc.message) from exc
        raise


def champion_version(model_name: str, client: MlflowClient | None = None) -> ModelVersion:
    """Return the registered version the ``champion`` alias points at.

    ``int(champion_version(name).version)`` is the version number; the returned entity also
    carries ``run_id`` and ``tags``.

    Raises:
        AliasNotFoundError: No such registered model, or it has no champion yet.
    """
    return alias_version(model_name, CHAMPION, client)
