"""End-to-end tier: the plugin a project pins is installable from the template's git repository.

A rendered project's pyproject.toml names kedro-mlops-kit as a uv git source: the template's
repository (`template_repository`), its subfolder kedro-mlops-kit, the tag v<kit_version>. This
test resolves exactly that source with uv from a tagged clone of this repository (the tag made
on the clone's HEAD when the version is not released yet) and checks what it installs.
"""

from __future__ import annotations

import subprocess
import tomllib

import pytest
import yaml
from conftest import render
from releases import git, releases, tagged_clone

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("plugin-install")]


def test_default_source_is_the_template_repository_at_the_version_tag(tmp_path):
    template = tagged_clone(tmp_path / "copier-kedro-mlops")
    version = yaml.safe_load((template / "copier.yml").read_text())["kit_version"]["default"]
    if f"v{version}" not in {release.version for release in releases()}:
        git("tag", f"v{version}", "HEAD", cwd=template)
    project = render(tmp_path / "project", {"template_repository": template.as_uri()})
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert f"kedro-mlops-kit=={version}" in pyproject["project"]["dependencies"]
    source = pyproject["tool"]["uv"]["sources"]["kedro-mlops-kit"]
    assert source == {
        "git": template.as_uri(),
        "subdirectory": "kedro-mlops-kit",
        "tag": f"v{version}",
    }
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "--quiet", str(venv)], check=True)
    requirement = (
        f"kedro-mlops-kit @ git+{source['git']}@{source['tag']}"
        f"#subdirectory={source['subdirectory']}"
    )
    # --no-deps: the point is the source (repository, tag, subfolder), not the whole stack.
    installed = subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--no-deps",
            "--python",
            str(venv / "bin" / "python"),
            requirement,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    shown = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kedro_mlops_kit as k; print(k.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == version
