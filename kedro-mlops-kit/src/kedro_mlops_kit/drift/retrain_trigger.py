"""Start a GitLab retraining pipeline when a drift report says the data drifted.

Uses GitLab's pipeline trigger API::

    POST {CI_API_V4_URL}/projects/{CI_PROJECT_ID}/trigger/pipeline
    token=<trigger token or CI_JOB_TOKEN>  ref=<branch>
    variables[RETRAIN_REASON]=<reason>  variables[PIPELINE_KIND]=retrain

Settings come from the environment (all set automatically inside a GitLab CI job, except the
optional ``RETRAIN_TRIGGER_TOKEN``):

- ``CI_API_V4_URL``, ``CI_PROJECT_ID``: where to send the request.
- ``RETRAIN_TRIGGER_TOKEN`` (preferred, a project pipeline-trigger token) or ``CI_JOB_TOKEN``.
- ``RETRAIN_REF`` (optional) or ``CI_DEFAULT_BRANCH``: the branch to run.

Usage::

    kedro drift trigger --report data/08_reporting/drift_report.json
    kedro drift trigger --report ... --dry-run   # prints, sends nothing

Exit codes: 0 triggered, not needed (no drift) or dry run; 2 bad report or settings;
4 GitLab refused the request or could not be reached.

``urllib`` is used on purpose: one POST does not justify a new runtime dependency.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "TriggerConfigError",
    "TriggerError",
    "TriggerRequest",
    "TriggerSettings",
    "build_request",
    "retrain_reason",
    "send_request",
    "trigger_retraining",
]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_TRIGGER_FAILED = 4
_REASON_MAX_FEATURES = 5
_REASON_MAX_CHARS = 255
_REDACTED = "[REDACTED]"


class TriggerConfigError(RuntimeError):
    """A required setting is missing from the environment."""


class TriggerError(RuntimeError):
    """GitLab answered with a non-2xx status, or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class TriggerSettings:
    """Where and as whom to trigger the pipeline."""

    api_url: str
    project_id: str
    token: str
    ref: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TriggerSettings:
        """Read settings from ``env`` (default ``os.environ``).

        Raises:
            TriggerConfigError: Naming the first missing variable.
        """
        env = os.environ if env is None else env

        def first(*names: str) -> str:
            for name in names:
                if env.get(name):
                    return env[name]
            raise TriggerConfigError(
                f"Environment variable {' or '.join(names)} must be set to trigger retraining"
            )

        return cls(
            api_url=first("CI_API_V4_URL").rstrip("/"),
            project_id=first("CI_PROJECT_ID"),
            token=first("RETRAIN_TRIGGER_TOKEN", "CI_JOB_TOKEN"),
            ref=first("RETRAIN_REF", "CI_DEFAULT_BRANCH"),
        )


@dataclass(frozen=True)
class TriggerRequest:
    """A fully built trigger request; ``describe`` is safe to print or log."""

    url: str
    fields: dict[str, str]

    def body(self) -> bytes:
        """URL-encoded form body, as GitLab's trigger endpoint expects."""
        return urllib.parse.urlencode(self.fields).encode("ascii")

    def describe(self) -> str:
        """Human-readable request with the token redacted."""
        shown = {k: (_REDACTED if k == "token" else v) for k, v in self.fields.items()}
        return f"POST {self.url}\n" + "\n".join(f"  {k}={v}" for k, v in shown.items())


def retrain_reason(report: Mapping[str, Any]) -> str:
    """Short reason naming the detector and the most drifted features."""
    drifted: Sequence[str] = report.get("drifted_features", [])
    if drifted:
        named = ", ".join(drifted[:_REASON_MAX_FEATURES])
        more = len(drifted) - _REASON_MAX_FEATURES
        features = f"{named} (+{more} more)" if more > 0 else named
    else:
        features = "multivariate shift, no single feature flagged"
    reason = (
        f"{report.get('detector', 'drift')} drift on model {report.get('model_version', '?')}: "
        f"{features}"
    )
    return reason[:_REASON_MAX_CHARS]


def build_request(settings: TriggerSettings, reason: str) -> TriggerRequest:
    """Build the trigger request; the project id is URL-quoted (it may be a 'group/name' path)."""
    project = urllib.parse.quote(settings.project_id, safe="")
    return TriggerRequest(
        url=f"{settings.api_url}/projects/{project}/trigger/pipeline",
        fields={
            "token": settings.token,
            "ref": settings.ref,
            "variables[RETRAIN_REASON]": reason,
            "variables[PIPELINE_KIND]": "retrain",
        },
    )


def _server_message(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(payload, dict):
        return str(payload.get("message") or payload.get("error") or payload)[:500]
    return str(payload)[:500]


def send_request(request: TriggerRequest, timeout_s: float = 30.0) -> dict[str, Any]:
    """POST the request and return GitLab's JSON answer (the created pipeline).

    Raises:
        TriggerError: Non-2xx status (with GitLab's message) or a network failure.
    """
    http_request = urllib.request.Request(
        request.url,
        data=request.body(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout_s) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        message = _server_message(error.read())
        raise TriggerError(
            f"GitLab refused the trigger ({error.code}): {message}", error.code
        ) from None
    except urllib.error.URLError as error:
        raise TriggerError(f"Could not reach {request.url}: {error.reason}") from None
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"raw": raw.decode("utf-8", errors="replace")}


def _read_report(path: Path) -> tuple[dict[str, Any], bool, bool]:
    """Return the report, whether it is a performance report, and whether retraining is due.

    A drift report says ``is_drift``; a performance report ``is_degraded`` and its ``reason``.

    Raises:
        ValueError: The file cannot be read, or is neither kind of report.
    """
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read report {str(path)!r}: {error}") from None
    if not isinstance(report, dict) or not ({"is_drift", "is_degraded"} & set(report)):
        raise ValueError(
            f"{str(path)!r} is neither a drift report (is_drift) nor a performance report "
            "(is_degraded)"
        )
    performance = "is_degraded" in report
    return report, performance, bool(report["is_degraded" if performance else "is_drift"])


def trigger_retraining(report_path: Path, dry_run: bool = False, timeout_s: float = 30.0) -> int:
    """Trigger retraining if the report at ``report_path`` shows drift; return the exit code.

    The report is a drift report (``is_drift``) or a performance report (``is_degraded``,
    whose ``reason`` becomes the pipeline's RETRAIN_REASON).

    Prints what was done, or the error on stderr (``kedro drift trigger``).
    """
    try:
        report, performance, needed = _read_report(report_path)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not needed:
        kind = "degradation" if performance else "drift"
        print(f"No {kind} in report; retraining not triggered.")
        return EXIT_OK
    try:
        settings = TriggerSettings.from_env()
    except TriggerConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    reason = str(report["reason"])[:_REASON_MAX_CHARS] if performance else retrain_reason(report)
    request = build_request(settings, reason)
    if dry_run:
        print("Dry run, not sent:\n" + request.describe())
        return EXIT_OK
    try:
        pipeline = send_request(request, timeout_s=timeout_s)
    except TriggerError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_TRIGGER_FAILED
    where = f" ({pipeline['web_url']})" if pipeline.get("web_url") else ""
    print(f"Triggered retraining pipeline {pipeline.get('id', '?')} on {settings.ref}{where}")
    return EXIT_OK
