"""`kedro drift trigger`: the request is checked against a real HTTP server on 127.0.0.1."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from click.testing import CliRunner

from kedro_mlops_kit.drift.cli import drift
from kedro_mlops_kit.drift.retrain_trigger import (
    TriggerConfigError,
    TriggerError,
    TriggerSettings,
    build_request,
    retrain_reason,
    send_request,
)

TOKEN = "glptt-secret-token-123"


class _Recorder(BaseHTTPRequestHandler):
    # Class attributes, because http.server builds a new handler per request; each server
    # fixture makes a fresh subclass so tests never share them.
    status: ClassVar[int] = 201
    answer: ClassVar[dict] = {"id": 4242, "web_url": "https://gitlab.example/p/-/pipelines/4242"}
    requests: ClassVar[list]

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "form": urllib.parse.parse_qs(self.rfile.read(length).decode()),
            }
        )
        body = json.dumps(self.answer).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    handler = type("Handler", (_Recorder,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, handler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def gitlab_env(server, monkeypatch):
    httpd, _ = server
    for name in ("RETRAIN_TRIGGER_TOKEN", "RETRAIN_REF"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI_API_V4_URL", f"http://127.0.0.1:{httpd.server_port}/api/v4/")
    monkeypatch.setenv("CI_PROJECT_ID", "123")
    monkeypatch.setenv("CI_JOB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "main")


def _trigger(*argv):
    return CliRunner().invoke(drift, ["trigger", *argv], catch_exceptions=False)


def _report(tmp_path, is_drift=True):
    report = {
        "is_drift": is_drift,
        "detector": "ks",
        "model_version": "7",
        "drifted_features": ["mean area", "worst radius"],
    }
    path = tmp_path / "drift_report.json"
    path.write_text(json.dumps(report))
    return path


def test_cli_sends_trigger_on_drift(server, gitlab_env, tmp_path):
    _, handler = server
    result = _trigger("--report", str(_report(tmp_path)))

    assert result.exit_code == 0
    [request] = handler.requests
    assert request["method"] == "POST"
    assert request["path"] == "/api/v4/projects/123/trigger/pipeline"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "token": [TOKEN],
        "ref": ["main"],
        "variables[RETRAIN_REASON]": ["ks drift on model 7: mean area, worst radius"],
        "variables[PIPELINE_KIND]": ["retrain"],
    }
    assert "Triggered retraining pipeline 4242 on main" in result.stdout
    assert TOKEN not in result.output


def test_cli_does_nothing_without_drift(server, gitlab_env, tmp_path):
    _, handler = server
    result = _trigger("--report", str(_report(tmp_path, is_drift=False)))
    assert result.exit_code == 0
    assert handler.requests == []
    assert "not triggered" in result.stdout


def test_dry_run_prints_request_without_token(server, gitlab_env, tmp_path):
    _, handler = server
    result = _trigger("--report", str(_report(tmp_path)), "--dry-run")
    assert result.exit_code == 0
    assert handler.requests == []
    out = result.stdout
    assert "POST http://127.0.0.1:" in out
    assert "variables[PIPELINE_KIND]=retrain" in out
    assert "token=[REDACTED]" in out
    assert TOKEN not in out


def test_non_2xx_raises_typed_error_with_server_message(server, gitlab_env, tmp_path):
    _, handler = server
    handler.status = 404
    handler.answer = {"message": "404 Project Not Found"}
    request = build_request(TriggerSettings.from_env(), "reason")
    with pytest.raises(TriggerError, match="404 Project Not Found") as info:
        send_request(request, timeout_s=5)
    assert info.value.status == 404
    result = _trigger("--report", str(_report(tmp_path)))
    assert result.exit_code == 4
    assert "error: GitLab refused the trigger (404): 404 Project Not Found" in result.stderr
    assert TOKEN not in result.output


def test_unreachable_server_is_a_trigger_error():
    settings = TriggerSettings("http://127.0.0.1:9/api/v4", "1", TOKEN, "main")
    with pytest.raises(TriggerError, match="Could not reach"):
        send_request(build_request(settings, "r"), timeout_s=2)


def test_missing_setting_is_named():
    env = {"CI_API_V4_URL": "http://x/api/v4", "CI_PROJECT_ID": "1", "CI_DEFAULT_BRANCH": "main"}
    with pytest.raises(TriggerConfigError, match="RETRAIN_TRIGGER_TOKEN or CI_JOB_TOKEN"):
        TriggerSettings.from_env(env)
    with pytest.raises(TriggerConfigError, match="CI_PROJECT_ID"):
        TriggerSettings.from_env({"CI_API_V4_URL": "http://x"})


def test_trigger_token_preferred_and_project_path_quoted():
    env = {
        "CI_API_V4_URL": "https://gitlab.example/api/v4",
        "CI_PROJECT_ID": "group/ml project",
        "CI_JOB_TOKEN": "job",
        "RETRAIN_TRIGGER_TOKEN": "trigger",
        "CI_DEFAULT_BRANCH": "main",
        "RETRAIN_REF": "release",
    }
    request = build_request(TriggerSettings.from_env(env), "r")
    assert (
        request.url
        == "https://gitlab.example/api/v4/projects/group%2Fml%20project/trigger/pipeline"
    )
    assert request.fields["token"] == "trigger"
    assert request.fields["ref"] == "release"


def test_reason_is_short_and_names_top_features():
    report = {"detector": "mmd", "model_version": "3", "drifted_features": list("abcdefg")}
    assert retrain_reason(report) == "mmd drift on model 3: a, b, c, d, e (+2 more)"
    assert "multivariate" in retrain_reason({"detector": "mmd", "drifted_features": []})
    assert len(retrain_reason({"drifted_features": ["x" * 400]})) == 255


def test_bad_report_is_exit_2(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    result = _trigger("--report", str(path))
    assert result.exit_code == 2
    assert "cannot read report" in result.stderr
    missing = _trigger("--report", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2
    assert "absent.json" in missing.stderr
    path.write_text('{"detector": "ks"}')
    other = _trigger("--report", str(path))
    assert other.exit_code == 2
    assert "neither a drift report (is_drift) nor a performance report" in other.stderr


def test_missing_setting_is_exit_2(tmp_path, monkeypatch):
    for name in ("CI_API_V4_URL", "CI_PROJECT_ID", "RETRAIN_TRIGGER_TOKEN", "CI_JOB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = _trigger("--report", str(_report(tmp_path)))
    assert result.exit_code == 2
    assert "error: Environment variable CI_API_V4_URL must be set" in result.stderr
