"""End-to-end helpers: rendered projects installed and driven by their own Makefile."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml


class Project:
    """A rendered, installed project and the commands a user would type in it."""

    def __init__(self, path: Path, answers: dict[str, str]) -> None:
        self.path = path
        self.answers = answers
        self.package = answers["package_name"]
        self.python = path / ".venv" / "bin" / "python"

    def make(
        self,
        *targets: str,
        check: bool = True,
        timeout: float = 900,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run `make TARGETS` in the project (``env`` adds variables); show output on failure."""
        started = time.perf_counter()
        result = subprocess.run(
            ["make", *targets],
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ | (env or {}),
        )
        result.seconds = time.perf_counter() - started
        print(f"[e2e] make {' '.join(targets)}: {result.seconds:.1f} s (exit {result.returncode})")
        if check and result.returncode != 0:
            pytest.fail(
                f"make {' '.join(targets)} failed ({result.returncode}):\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def run_python(self, code: str, env: dict[str, str] | None = None) -> object:
        """Run Python code in the project's .venv (inside the project); return its JSON output."""
        result = subprocess.run(
            [str(self.python), "-c", code],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | (env or {}),
        )
        if result.returncode != 0:
            pytest.fail(f"project python failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def installed(path: Path) -> Project:
    """`make install` a rendered project and return it; the shared uv cache makes it cheap."""
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text())
    project = Project(path, answers)
    project.make("install")
    return project


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; return the seconds it took, or fail the test."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if condition():
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
