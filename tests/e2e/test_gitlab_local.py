"""End-to-end tier: the rendered .gitlab-ci.yml runs for real with gitlab-ci-local."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from projects import ON_DEFAULT_PROJECT, user_env

pytestmark = [pytest.mark.e2e, ON_DEFAULT_PROJECT]

# Jobs that need a GPU runner, a registry, a cluster or secrets are validated and listed only.
LISTED_JOBS = [
    "lint",
    "test",
    "train",
    "evaluate",
    "export",
    "images",
    "deploy-staging",
    "deploy-production",
]


def gitlab_ci_local(project, *args, timeout=900):
    binary = shutil.which("gitlab-ci-local")
    assert binary, "gitlab-ci-local is missing (nox -s e2e installs it)"
    return subprocess.run(
        [binary, *args],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=user_env(),
    )


def test_list_shows_the_whole_job_graph(default_project):
    result = gitlab_ci_local(default_project, "--list")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = result.stdout
    for job in LISTED_JOBS:
        assert f"\n{job} " in listed or f"\n{job}:" in listed, f"{job} not listed:\n{listed}"
    assert "\ndrift " not in listed, "the drift job runs on schedules only"


def test_lint_and_test_jobs_pass_in_shell_mode(default_project):
    """The default project's own `make install`, `make lint` and `make test`, as CI runs them."""
    wheels = os.environ.get("TORCH_WHEELS", "")
    result = gitlab_ci_local(
        default_project,
        "--force-shell-executor",
        "--variable",
        f"TORCH_WHEELS={wheels}",
        "lint",
        "test",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "lint" in output and "test" in output
