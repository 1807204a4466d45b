"""Lineage tags: git commit of the code and DVC md5 of the raw data."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import yaml


def git_commit(cwd: Path | None = None) -> str | None:
    """Return ``HEAD``'s commit sha; outside git, the ``GIT_COMMIT`` an image was built with.

    The training image has no git repository: it is built with ``--build-arg GIT_COMMIT=<sha>``.
    Returns None when neither is known.
    """
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        built_from = os.environ.get("GIT_COMMIT", "unknown")
        return None if built_from == "unknown" else built_from
    return result.stdout.strip() or None


def git_is_dirty(cwd: Path | None = None) -> bool | None:
    """Return whether tracked files have uncommitted changes (None when git is unavailable)."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(result.stdout.strip())


def file_md5(path: Path) -> str:
    """MD5 of a file's bytes, the same digest DVC records for a single file."""
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_hash(path: Path) -> tuple[str | None, str]:
    """Return ``(md5, source)``: from ``<path>.dvc`` when present, else computed from the file.

    ``source`` is ``dvc``, ``computed`` or ``missing`` so a reader knows which one it got.
    """
    dvc_file = path.with_name(path.name + ".dvc")
    if dvc_file.exists():
        outs = (yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}).get("outs") or []
        if outs and outs[0].get("md5"):
            return outs[0]["md5"], "dvc"
    if path.exists():
        return file_md5(path), "computed"
    return None, "missing"
