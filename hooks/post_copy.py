"""Post-copy setup of a freshly rendered project: a git repository with a first commit.

Copier runs this once, after `copier copy`, inside the new project. DVC needs a git
repository for its pipeline files, and `copier update` needs a clean, committed tree to
merge later template changes into, so the project starts life committed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FALLBACK_IDENTITY = ("Copier", "copier@localhost")


def run_git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one git command in ``cwd`` and return its completed process."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def inside_work_tree(project: Path) -> bool:
    """Tell whether ``project`` already belongs to a git work tree (and is not ignored by it).

    A project rendered into an ignored folder of another repository (a build folder) is not
    part of that repository, so it still needs one of its own.
    """
    if run_git("rev-parse", "--is-inside-work-tree", cwd=project).stdout.strip() != "true":
        return False
    return run_git("check-ignore", "--quiet", ".", cwd=project).returncode != 0


def identity_args(project: Path) -> list[str]:
    """Return `-c user.*` options when git has no identity configured, none otherwise."""
    has_name = run_git("config", "user.name", cwd=project).returncode == 0
    has_email = run_git("config", "user.email", cwd=project).returncode == 0
    if has_name and has_email:
        return []
    name, email = FALLBACK_IDENTITY
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def initialise_repository(project: Path) -> str:
    """Create a git repository with one commit holding the rendered files.

    Returns a one-line account of what was done, for the user to read.
    """
    if shutil.which("git") is None:
        return "git is not installed: run `git init` yourself before `make install`."
    if inside_work_tree(project):
        return "The project lies inside an existing git repository: nothing committed."
    steps = {
        "init": ["init", "--quiet", "--initial-branch=main"],
        "add": ["add", "--all"],
        "commit": [
            *identity_args(project),
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "Initial project",
        ],
    }
    for name, args in steps.items():
        result = run_git(*args, cwd=project)
        if result.returncode != 0:
            return f"git {name} failed: {result.stderr.strip()}"
    return "Initialised a git repository on branch main with the rendered files committed."


def main() -> int:
    """Set up the project in the current directory and report what was done."""
    print(initialise_repository(Path.cwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
