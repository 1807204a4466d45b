"""What the plugin's commands read from the Kedro project they run in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def project_parameters(project_path: Path | None = None, env: str | None = None) -> dict[str, Any]:
    """Return the project's parameters as Kedro's config loader merges them (base + local).

    Args:
        project_path: The project root (default: the current directory).
        env: The Kedro environment (default: the project's default run environment).

    Raises:
        click.ClickException: The folder holds no Kedro project.
    """
    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project

    root = Path(project_path or Path.cwd()).resolve()
    if not (root / "pyproject.toml").exists():
        raise click.ClickException(
            f"{root} is not a Kedro project (no pyproject.toml): run the command from the "
            "project root."
        )
    bootstrap_project(root)
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE), env=env, **settings.CONFIG_LOADER_ARGS
    )
    return loader["parameters"]


def default_model_name() -> str:
    """Return the registered model name: the project's ``evaluation.model_name`` parameter."""
    try:
        return str(project_parameters()["evaluation"]["model_name"])
    except KeyError as exc:
        raise click.ClickException(
            "No model name given and the project has no evaluation.model_name parameter: pass "
            "--model-name NAME or set it in conf/base/parameters_evaluation.yml."
        ) from exc
