"""The plugin's version against the project's template version, and ``kedro kit check``."""

import pytest
from click.testing import CliRunner

from kedro_mlops_kit import __version__
from kedro_mlops_kit.cli import commands
from kedro_mlops_kit.versions import template_version, version_mismatch


def _project(tmp_path, answers: str | None):
    if answers is not None:
        (tmp_path / ".copier-answers.yml").write_text(answers)
    return tmp_path


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("_commit: v0.3.0\n_src_path: gh:org/copier-kedro-mlops\n", "0.3.0"),
        # A commit four commits after the v0.3.0 tag still follows 0.3.0.
        ("_commit: v0.3.0-4-gabc1234\n", "0.3.0"),
        ("_commit: 0.4.1\n", "0.4.1"),
        ("_commit: v1.12.30\n", "1.12.30"),
        # An untagged commit, no _commit at all, an empty file: unknown.
        ("_commit: abc1234\n", None),
        ("project_name: x\n", None),
        ("", None),
        (None, None),
    ],
)
def test_template_version(tmp_path, answers, expected):
    assert template_version(_project(tmp_path, answers)) == expected


def test_versions_that_agree_or_are_unknown_are_no_mismatch(tmp_path):
    assert version_mismatch(_project(tmp_path, None), installed="0.3.0") is None
    assert version_mismatch(_project(tmp_path, "_commit: v0.3.0-2-gdeadbee\n"), "0.3.0") is None


def test_mismatch_names_both_versions_and_the_ways_out(tmp_path):
    message = version_mismatch(_project(tmp_path, "_commit: v0.4.0\n"), installed="0.3.0")
    assert message is not None
    assert "kedro-mlops-kit 0.3.0 is installed" in message
    assert "template version 0.4.0" in message
    assert "make install" in message
    assert "make update-template" in message


def _check(tmp_path, monkeypatch, *args):
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(commands, ["kit", "check", *args])


@pytest.mark.parametrize("strict", [False, True])
def test_kit_check_when_versions_agree(tmp_path, monkeypatch, strict):
    _project(tmp_path, f"_commit: v{__version__}\n")
    result = _check(tmp_path, monkeypatch, *(["--strict"] if strict else []))
    assert result.exit_code == 0, result.output
    expected = f"kedro-mlops-kit {__version__} (project template version {__version__})\n"
    assert result.stdout == expected
    assert "WARNING" not in result.stderr


def test_kit_check_warns_on_mismatch_and_strict_fails(tmp_path, monkeypatch):
    _project(tmp_path, "_commit: v99.0.0-1-g0000000\n")
    result = _check(tmp_path, monkeypatch)
    assert result.exit_code == 0
    assert "project template version 99.0.0" in result.stdout
    assert f"WARNING: kedro-mlops-kit {__version__} is installed" in result.stderr
    strict = _check(tmp_path, monkeypatch, "--strict")
    assert strict.exit_code == 1
    assert "WARNING" in strict.stderr


def test_kit_check_outside_a_rendered_project(tmp_path, monkeypatch):
    result = _check(tmp_path, monkeypatch, "--strict")
    assert result.exit_code == 0
    assert "project template version unknown" in result.stdout
