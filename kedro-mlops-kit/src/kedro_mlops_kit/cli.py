"""Kedro project commands of the plugin: ``kedro serving``, ``drift``, ``production``, ...

The groups: ``serving``, ``drift``, ``production``, ``data`` and ``kit``.

Kedro finds ``commands`` through the ``kedro.project_commands`` entry point (as kedro-mlflow
does) and adds its groups to the ``kedro`` command of every project that installs the plugin.
Each group lives beside the code it drives; only light imports happen before a command runs.
"""

from __future__ import annotations

import click

from kedro_mlops_kit.data.cli import data
from kedro_mlops_kit.drift.cli import drift
from kedro_mlops_kit.production.cli import production
from kedro_mlops_kit.serving.cli import serving


@click.group(name="kedro-mlops-kit")
def commands() -> None:
    """Commands of kedro-mlops-kit (shown under the project's ``kedro`` command)."""


@click.group(name="kit")
def kit() -> None:
    """Check the plugin itself: its version, the code each pipeline runs."""


@kit.command(name="check")
@click.option("--strict", is_flag=True, help="Exit 1 when the versions disagree.")
def check(strict: bool) -> None:
    """Print the plugin version and say whether it matches the project's template version."""
    from pathlib import Path

    from kedro_mlops_kit import __version__
    from kedro_mlops_kit.versions import template_version, version_mismatch

    project = Path.cwd()
    expected = template_version(project) or "unknown"
    click.echo(f"kedro-mlops-kit {__version__} (project template version {expected})")
    problem = version_mismatch(project)
    if problem:
        click.secho(f"WARNING: {problem}", fg="yellow", err=True)
        if strict:
            raise SystemExit(1)


@kit.command(name="code-deps")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=str),
    default=".code-deps",
    show_default=True,
    help="Folder for one manifest per pipeline.",
)
def code_deps(output: str) -> None:
    """Write which source files each pipeline runs, with hashes (DVC stage code_deps)."""
    from pathlib import Path

    from kedro_mlops_kit.codedeps import write_manifests

    for path in write_manifests(Path.cwd(), Path(output)):
        click.echo(f"{path}: {len(path.read_text().splitlines()) - 1} source files")


commands.add_command(kit)
commands.add_command(data)
commands.add_command(drift)
commands.add_command(production)
commands.add_command(serving)
