"""Render tier: the GitLab pipeline passes GitLab's schema and says when each job runs."""

from __future__ import annotations

import shutil
import subprocess

import yaml


def pipeline(project):
    return yaml.safe_load((project / ".gitlab-ci.yml").read_text())


def jobs(config):
    reserved = {"workflow", "stages", "variables", "default", "include"}
    return {k: v for k, v in config.items() if k not in reserved and not k.startswith(".")}


def test_passes_gitlab_schema(rendered):
    _, project = rendered
    checker = shutil.which("check-jsonschema")
    assert checker, "check-jsonschema is missing (nox installs it)"
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.gitlab-ci", str(project / ".gitlab-ci.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def resolved(config, job):
    """A job with what it `extends` merged in (GitLab's own order: later keys win)."""
    merged = {}
    for parent in job.get("extends", []):
        merged |= resolved(config, config[parent])
    return merged | job


def test_every_job_says_when_it_runs(rendered):
    _, project = rendered
    config = pipeline(project)
    for name, job in jobs(config).items():
        job = resolved(config, job)
        assert "rules" in job, f"{name} has no rules"
        assert job["stage"] in config["stages"], name


def test_lint_and_test_jobs_and_gpu_tags(rendered):
    answers, project = rendered
    all_jobs = jobs(pipeline(project))
    assert {"lint", "test", "train", "evaluate", "export", "images", "drift"} <= set(all_jobs)
    assert all_jobs["train"]["tags"] == answers["gpu_runner_tags"].split(",")
    drift_rules = all_jobs["drift"]["rules"]
    assert drift_rules == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
