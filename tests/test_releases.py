"""Static tier: releases.yml, the CHANGELOG and git tags tell the same story."""

from __future__ import annotations

import re
import subprocess

from packaging.version import Version
from releases import ROOT, git, releases

CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_versions_are_tags_of_increasing_versions():
    versions = [release.version for release in releases()]
    assert versions, "releases.yml records no release"
    for version in versions:
        assert re.fullmatch(r"v\d+\.\d+\.\d+", version), f"{version} is not of the form vX.Y.Z"
    parsed = [Version(version) for version in versions]
    assert parsed == sorted(parsed) and len(set(parsed)) == len(parsed), versions


def test_every_release_is_a_commit_of_main_with_a_changelog_entry():
    for release in releases():
        is_ancestor = subprocess.run(
            ["git", "merge-base", "--is-ancestor", release.commit, "HEAD"], cwd=ROOT, check=False
        )
        assert is_ancestor.returncode == 0, (
            f"{release.version}'s commit {release.commit} is not in HEAD's history "
            "(a shallow clone? run `git fetch --unshallow`)"
        )
        assert re.search(rf"^## {re.escape(release.version)}\b", CHANGELOG, re.MULTILINE), (
            f"CHANGELOG.md has no '## {release.version}' section"
        )


def test_git_tags_match_the_record():
    recorded = {release.version: release.commit for release in releases()}
    tags = [tag for tag in git("tag", "--list", "v*").splitlines() if tag]
    for tag in tags:
        assert tag in recorded, f"tag {tag} is missing from releases.yml"
        assert git("rev-parse", f"{tag}^{{commit}}") == recorded[tag], (
            f"tag {tag} and releases.yml point at different commits"
        )


def test_plugin_version_is_the_template_version_projects_install():
    """kedro-mlops-kit is released with the template: one version, one CHANGELOG.

    `kit_version` in copier.yml (what `make install` pins) equals the plugin's own version and
    the package's __version__; once that version is released, its tag and section exist.
    """
    import tomllib

    import yaml

    plugin = ROOT / "kedro-mlops-kit"
    declared = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]["version"]
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert questions["kit_version"]["default"] == declared
    init = (plugin / "src" / "kedro_mlops_kit" / "__init__.py").read_text()
    assert f'__version__ = "{declared}"' in init
    released = {release.version for release in releases()}
    if f"v{declared}" in released:
        assert re.search(rf"^## v{re.escape(declared)}\b", CHANGELOG, re.MULTILINE)
    else:
        # Not released yet: it must be newer than every release.
        assert all(Version(declared) > Version(v) for v in released), declared
