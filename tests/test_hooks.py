"""Static tier: the post-copy hook sets up git the way the project expects."""

from __future__ import annotations

import importlib.util
import subprocess

from conftest import ROOT

spec = importlib.util.spec_from_file_location("post_copy", ROOT / "hooks" / "post_copy.py")
post_copy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(post_copy)


def git(*args, cwd):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def test_initialises_and_commits(tmp_path):
    (tmp_path / "README.md").write_text("hello\n")
    message = post_copy.initialise_repository(tmp_path)
    assert "Initialised" in message
    assert git("status", "--porcelain", cwd=tmp_path) == ""
    assert git("branch", "--show-current", cwd=tmp_path).strip() == "main"


def test_leaves_an_existing_repository_alone(tmp_path):
    git("init", "--quiet", cwd=tmp_path)
    inner = tmp_path / "project"
    inner.mkdir()
    (inner / "README.md").write_text("hello\n")
    assert "nothing committed" in post_copy.initialise_repository(inner)
    assert git("status", "--porcelain", cwd=tmp_path).strip() == "?? project/"


def test_initialises_inside_an_ignored_folder_of_another_repository(tmp_path):
    git("init", "--quiet", cwd=tmp_path)
    (tmp_path / ".gitignore").write_text("build/\n")
    inner = tmp_path / "build" / "project"
    inner.mkdir(parents=True)
    (inner / "README.md").write_text("hello\n")
    assert "Initialised" in post_copy.initialise_repository(inner)
    assert git("rev-parse", "--show-toplevel", cwd=inner).strip() == str(inner)
