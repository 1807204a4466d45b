"""Lineage tags: the code's commit and the raw data's DVC hash, inside and outside git."""

import hashlib

from kedro_mlops_kit.evaluation import lineage


def _outside_any_repository(monkeypatch, folder):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(folder.parent))


def test_commit_comes_from_git_in_a_repository(tmp_path, monkeypatch):
    _outside_any_repository(monkeypatch, tmp_path)
    monkeypatch.setenv("GIT_COMMIT", "from-the-image")
    lineage.subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "a.txt").write_text("a\n")
    identity = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    for args in (["add", "a.txt"], [*identity, "commit", "--quiet", "-m", "a"]):
        lineage.subprocess.run(["git", *args], cwd=tmp_path, check=True)
    commit = lineage.git_commit(tmp_path)
    assert commit is not None and len(commit) == 40 and commit != "from-the-image"


def test_commit_outside_git_is_the_one_the_image_was_built_from(tmp_path, monkeypatch):
    _outside_any_repository(monkeypatch, tmp_path)
    monkeypatch.setenv("GIT_COMMIT", "0123abcd")
    assert lineage.git_commit(tmp_path) == "0123abcd"
    monkeypatch.setenv("GIT_COMMIT", "unknown")
    assert lineage.git_commit(tmp_path) is None


def test_data_hash_prefers_the_dvc_pointer_and_falls_back_to_the_file(tmp_path):
    raw = tmp_path / "dataset.csv"
    raw.write_text("x,target\n1,0\n")
    assert lineage.data_hash(raw) == (hashlib.md5(raw.read_bytes()).hexdigest(), "computed")
    (tmp_path / "dataset.csv.dvc").write_text("outs:\n- md5: feedface\n  path: dataset.csv\n")
    assert lineage.data_hash(raw) == ("feedface", "dvc")
    assert lineage.data_hash(tmp_path / "absent.csv") == (None, "missing")
