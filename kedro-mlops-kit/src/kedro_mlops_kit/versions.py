"""Tell whether the installed plugin matches the template version the project follows."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kedro_mlops_kit import __version__

ANSWERS_FILE = ".copier-answers.yml"
_RELEASE = re.compile(r"^v?(\d+\.\d+\.\d+)")


def template_version(project_path: Path) -> str | None:
    """Return the template release the project was rendered or last updated from.

    Reads ``_commit`` of ``.copier-answers.yml`` (``v0.3.0``, or ``v0.3.0-4-gabc1234`` for a
    commit after that tag); None when the file or the field is missing.
    """
    answers = Path(project_path) / ANSWERS_FILE
    if not answers.exists():
        return None
    commit = str((yaml.safe_load(answers.read_text()) or {}).get("_commit", ""))
    match = _RELEASE.match(commit)
    return match.group(1) if match else None


def version_mismatch(project_path: Path, installed: str = __version__) -> str | None:
    """Say how the installed plugin and the project's template version disagree, or None."""
    expected = template_version(project_path)
    if expected is None or expected == installed:
        return None
    return (
        f"kedro-mlops-kit {installed} is installed, but this project follows template version "
        f"{expected}: run `make install` without KIT_* overrides to install kedro-mlops-kit "
        f"{expected}, or `make update-template` to move the project to the plugin's version."
    )
