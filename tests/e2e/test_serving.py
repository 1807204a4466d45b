"""End-to-end tier: export the champion, serve it on a real local Triton, query it, roll back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest
from projects import free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("default")]

COMPARE = """
import json, numpy as np, onnxruntime as ort, pandas as pd
from {package}.serving.client import TritonClient
rows = pd.read_parquet("data/05_model_input/test.parquet")
config = "serving/model_repository/{model}"
session = ort.InferenceSession(f"{{config}}/{version}/model.onnx")
features = [i.name for i in session.get_inputs()]
x = rows.drop(columns=["target"]).to_numpy(np.float32)
expected = session.run(None, {{features[0]: x}})[0]
diffs = {{}}
for protocol, port in (("http", {http}), ("grpc", {grpc})):
    client = TritonClient(f"127.0.0.1:{{port}}", protocol=protocol, model_name="{model}")
    diffs[protocol] = float(np.abs(client.predict(x) - expected).max())
print(json.dumps(diffs))
"""


def http_json(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def server(trained_project):
    """`make export`, then `make serve` in the background on free loopback ports."""
    trained_project.make("export")
    ports = {name: free_port() for name in ("HTTP", "GRPC", "METRICS")}
    env = os.environ | {f"TRITON_{name}_PORT": str(port) for name, port in ports.items()}
    log = (trained_project.path / "triton.log").open("w")
    process = subprocess.Popen(
        ["make", "serve"],
        cwd=trained_project.path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{ports['HTTP']}"
    model = trained_project.answers["model_name"]
    try:
        seconds = wait_for(
            lambda: http_json(f"{base}/v2/models/{model}/ready")[0] == 200, 120, "model ready"
        )
        print(f"[e2e] make serve: model ready after {seconds:.1f} s")
        yield {"base": base, "ports": ports, "model": model}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def served_versions(server) -> list[str]:
    return http_json(f"{server['base']}/v2/models/{server['model']}")[1].get("versions", [])


def test_metadata_matches_config(server):
    status, metadata = http_json(f"{server['base']}/v2/models/{server['model']}")
    assert status == 200
    assert [i["name"] for i in metadata["inputs"]] == ["features"]
    assert metadata["inputs"][0]["shape"] == [-1, 30]
    assert metadata["outputs"][0]["shape"] == [-1, 2]


def test_http_and_grpc_answer_like_onnxruntime(trained_project, server):
    diffs = trained_project.run_python(
        COMPARE.format(
            package=trained_project.package,
            model=server["model"],
            version=1,
            http=server["ports"]["HTTP"],
            grpc=server["ports"]["GRPC"],
        )
    )
    assert diffs["http"] < 1e-5 and diffs["grpc"] < 1e-5, diffs


def test_malformed_request_is_refused_and_server_stays_ready(server):
    bad = {
        "inputs": [
            {"name": "features", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}
        ]
    }
    status, body = http_json(f"{server['base']}/v2/models/{server['model']}/infer", bad)
    assert status == 400, body
    assert "error" in body
    assert http_json(f"{server['base']}/v2/health/ready")[0] == 200


def test_rollback_changes_the_served_version(trained_project, server):
    # A second registration of the same model ties with the champion, and a tie is promoted.
    subprocess.run(
        [str(trained_project.path / ".venv" / "bin" / "kedro"), "run", "--pipeline", "evaluation"],
        cwd=trained_project.path,
        check=True,
        capture_output=True,
        env=os.environ | {"KEDRO_DISABLE_TELEMETRY": "true"},
    )
    trained_project.make("export")
    wait_for(lambda: "2" in served_versions(server), 60, "version 2 to be served")
    trained_project.make("rollback")
    wait_for(lambda: served_versions(server) == ["1"], 60, "rollback to version 1")
