"""End-to-end helpers: rendered projects installed and driven by their own Makefile."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# xdist groups, one mark per test (xdist joins several into a new group): the tests of a group
# run in one worker, in file and definition order, so tests that share a project share a group.
# The regression and tabular profiles share one: together they weigh about what the default
# project weighs, so the two workers (one per core) finish at about the same time.
ON_DEFAULT_PROJECT = pytest.mark.xdist_group("default")
ON_PROFILE_PROJECTS = pytest.mark.xdist_group("profiles")
# What a person would set with `git config`; CI machines may have no identity at all.
GIT_IDENTITY = ["-c", "user.name=e2e tests", "-c", "user.email=e2e@example.invalid"]
TRITON_PORTS = ("HTTP", "GRPC", "METRICS")
# Set by an enclosing make (`make test` runs nox, which runs these tests): the project's make
# would then run as a sub-make and print "make[1]: Entering/Leaving directory" into the output
# the tests read. A user types `make predict` in a plain shell.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def user_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment as a user's shell has it, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    return env | (extra or {})


class Project:
    """A rendered, installed project and the commands a user would type in it."""

    def __init__(self, path: Path, answers: dict[str, str]) -> None:
        self.path = path
        self.answers = answers
        self.package = answers["package_name"]
        self.model = answers["model_name"]
        self.python = path / ".venv" / "bin" / "python"

    def make(
        self,
        *targets: str,
        check: bool = True,
        timeout: float = 900,
        env: dict[str, str] | None = None,
        note: str = "",
    ) -> subprocess.CompletedProcess:
        """Run `make TARGETS` in the project (``env`` adds variables); show output on failure.

        Prints ``[e2e] make TARGETS: N s``: conftest.py collects these lines into the session's
        closing summary (the lifecycle figures the docs quote).
        """
        started = time.perf_counter()
        result = subprocess.run(
            ["make", *targets],
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=user_env(env),
        )
        result.seconds = time.perf_counter() - started
        print(
            f"[e2e] {self.path.parent.name}: make {' '.join(targets)}{note}: "
            f"{result.seconds:.1f} s (exit {result.returncode})"
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"make {' '.join(targets)} failed ({result.returncode}):\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def run(self, *command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run a command (e.g. the venv's `dvc`, or `git`) in the project; fail with its output."""
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd or self.path,
            capture_output=True,
            text=True,
            check=False,
            env=user_env(),
        )
        if result.returncode != 0:
            pytest.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """The project's own DVC (``.venv/bin/dvc``), in the project or in ``cwd`` (a clone)."""
        return self.run(self.path / ".venv" / "bin" / "dvc", *args, cwd=cwd)

    def commit(self, message: str, *paths: str) -> None:
        """Commit ``paths`` (default: every change git does not ignore), as the team would."""
        self.run("git", "add", *(paths or ["--all"]))
        self.run("git", *GIT_IDENTITY, "commit", "--quiet", "-m", message)

    def run_python(self, code: str, env: dict[str, str] | None = None) -> object:
        """Run Python code in the project's .venv (inside the project); return its JSON output."""
        result = subprocess.run(
            [str(self.python), "-c", code],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=False,
            env=user_env(env),
        )
        if result.returncode != 0:
            pytest.fail(f"project python failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def stages_run(result: subprocess.CompletedProcess) -> list[str]:
    """The DVC stages a `dvc repro` (`make repro`) really ran, in order (not those it skipped)."""
    return re.findall(r"Running stage '([^']+)'", result.stdout)


def installed(path: Path) -> Project:
    """`make install` a rendered project and return it; the shared uv cache makes it cheap.

    The printed figure says whether the uv cache was empty before (a cold install, as a new
    machine or CI without a cache sees it) or already held the packages (warm).
    """
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text())
    project = Project(path, answers)
    cache = Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))
    cold = not cache.is_dir() or not any(cache.iterdir())
    project.make("install", note=" (cold: empty uv cache)" if cold else " (warm uv cache)")
    return project


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` on the loopback interface now.

    Like servers (Triton included), the probe sets SO_REUSEADDR: connections of a stopped
    server that linger in TIME_WAIT do not block a new listener; a live listener does.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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


def http_json(url: str, body: dict | None = None) -> tuple[int, dict]:
    """GET (or POST ``body`` as JSON to) ``url``; return the status and the decoded answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def triton_processes(root: Path) -> list[tuple[int, str]]:
    """Live tritonserver processes (and their Python backend stubs) that belong under ``root``.

    A process belongs there when its command line or its working directory points into ``root``
    (`make serve` runs `.triton/bin/tritonserver --model-repository=<project>/serving/...`).
    """
    root = Path(root).resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            command = " ".join(a.decode(errors="replace") for a in args if a)
            if "tritonserver" not in command and "triton_python_backend_stub" not in command:
                continue
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                cwd = Path("/")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if str(root) in command or cwd == root or root in cwd.parents:
            found.append((int(entry.name), command))
    return found


def kill_processes(processes: list[tuple[int, str]]) -> None:
    """SIGKILL each process and the process group it leads (a server and its backend stubs)."""
    for pid, _ in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


@dataclass
class Served:
    """A `make serve` running in the background on free loopback ports."""

    project: Project
    process: subprocess.Popen
    ports: dict[str, int]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['HTTP']}"

    @property
    def model(self) -> str:
        return self.project.model

    def versions(self) -> list[str]:
        """The model versions the server serves now."""
        return http_json(f"{self.base}/v2/models/{self.model}")[1].get("versions", [])

    def env(self) -> dict[str, str]:
        """TRITON_*_PORT for `make predict` and friends to reach this server."""
        return {f"TRITON_{name}_PORT": str(port) for name, port in self.ports.items()}


@contextlib.contextmanager
def serving(project: Project, timeout: float = 120) -> Iterator[Served]:
    """`make serve` in the background on free loopback ports until the model is ready.

    On exit, a server the test did not stop itself is stopped as a terminal's Ctrl-C would:
    SIGTERM to the whole process group of `make`.
    """
    ports = {name: free_port() for name in TRITON_PORTS}
    # Beside the project, not in it: the project's git tree stays as the team keeps it.
    log = project.path.parent / "make-serve.log"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "serve"],
            cwd=project.path,
            env=user_env({f"TRITON_{name}_PORT": str(port) for name, port in ports.items()}),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Served(project, process, ports, log)
        try:
            url = f"{server.base}/v2/models/{project.model}/ready"

            def ready_or_exited() -> bool:
                return server.process.poll() is not None or http_json(url)[0] == 200

            wait_for(ready_or_exited, timeout, f"model {project.model} ready (log: {log})")
            if server.process.poll() is not None:
                pytest.fail(f"make serve exited ({server.process.returncode}):\n{log.read_text()}")
            seconds = time.perf_counter() - started
            print(f"[e2e] {project.path.parent.name}: make serve: ready after {seconds:.1f} s")
            yield server
        finally:
            if server.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.process.pid, signal.SIGTERM)
                server.process.wait(timeout=60)
