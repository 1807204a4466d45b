"""The template's released versions (releases.yml) and a clone of this repository tagged with them.

A fresh clone of main may carry no tags, so tests that need released versions tag a clone from
the record instead of trusting the clone they run in.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RELEASES_FILE = ROOT / "releases.yml"


@dataclass(frozen=True)
class Release:
    """One released template version and the commit its tag points at."""

    version: str
    commit: str


def git(*args: str, cwd: Path = ROOT) -> str:
    """Run git in ``cwd`` and return its output; raise with git's message on failure."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


def releases() -> list[Release]:
    """The releases recorded in releases.yml, oldest first."""
    entries = yaml.safe_load(RELEASES_FILE.read_text(encoding="utf-8"))
    return [Release(entry["version"], entry["commit"]) for entry in entries]


def tagged_clone(destination: Path) -> Path:
    """Clone this repository, tag the recorded releases, and commit the working tree on top.

    The working tree's uncommitted edits (tracked and untracked, not ignored) become one
    commit at HEAD of the clone, so tests update projects to exactly what is being tested.
    """
    # --no-tags: the record, not whatever tags this clone happens to have, says what a release is.
    git("clone", "--quiet", "--no-local", "--no-tags", str(ROOT), str(destination))
    for release in releases():
        git("tag", release.version, release.commit, cwd=destination)
    files = git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        source, target = ROOT / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()  # deleted in the working tree, not yet committed
    # Removed from the index (`git rm`, a staged rename): absent from the list above.
    kept = set(files)
    for name in git("ls-files", "-z", cwd=destination).split("\0"):
        if name and name not in kept:
            (destination / name).unlink(missing_ok=True)
    git("add", "--all", cwd=destination)
    if git("status", "--porcelain", cwd=destination):
        identity = ["-c", "user.name=tests", "-c", "user.email=tests@localhost"]
        git(*identity, "commit", "--quiet", "--no-verify", "-m", "working tree", cwd=destination)
    return destination
