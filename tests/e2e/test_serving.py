"""End-to-end tier: every project exports its champion, serves it on a real local Triton, answers
like ONNX Runtime (through the client and through `make predict`) and stops on SIGTERM.

One run per project, so per answer that changes what is served: `task=classification` with the
ks detector (default), `task=regression` with mmd and an S3 remote, and the tabular profile with
the team's own embedding network (conftest.py). The rollback test runs on the default project.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from projects import (
    ON_DEFAULT_PROJECT,
    ON_PROFILE_PROJECTS,
    Served,
    http_json,
    port_is_free,
    serving,
    triton_processes,
    user_env,
    wait_for,
)

pytestmark = pytest.mark.e2e

# One param per project, each in the xdist group of its project (projects.py): its tests run in
# that group's worker, in order, after the project's other tests in earlier files.
PROJECTS = [
    pytest.param("default_project", id="classification-ks", marks=ON_DEFAULT_PROJECT),
    pytest.param("regression_project", id="regression-mmd", marks=ON_PROFILE_PROJECTS),
    pytest.param("tabular_project", id="tabular-embedding", marks=ON_PROFILE_PROJECTS),
]

# The contract of the highest exported version (the one Triton serves by default) and ONNX
# Runtime's answer on the rows, in the contract's feature order.
ONNXRUNTIME = """
import json, numpy as np, onnxruntime as ort, pandas as pd
from kedro_mlops_kit.serving.contract import repository_contract
from kedro_mlops_kit.serving.model_repository import version_dirs
folder = "serving/model_repository/{model}"
version = max(version_dirs(folder))
contract = repository_contract("serving/model_repository", "{model}", version)
session = ort.InferenceSession(f"{{folder}}/{{version}}/model.onnx")
x = pd.read_csv("{rows}")[list(contract.feature_columns)].to_numpy(np.float32)
print(json.dumps({{
    "version": version,
    "task": contract.task,
    "n_features": contract.n_features,
    "n_outputs": contract.n_outputs,
    "feature_columns": contract.feature_columns,
    "class_labels": contract.class_labels,
    "expected": session.run(None, {{session.get_inputs()[0].name: x}})[0].tolist(),
}}))
"""
CLIENT = """
import json, numpy as np, pandas as pd
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.contract import repository_contract
contract = repository_contract("serving/model_repository", "{model}")
x = pd.read_csv("{rows}")[list(contract.feature_columns)].to_numpy(np.float32)
answers = {{}}
for protocol, port in (("http", {http}), ("grpc", {grpc})):
    with TritonClient(f"127.0.0.1:{{port}}", protocol=protocol, model_name="{model}") as client:
        answers[protocol] = client.predict(x).tolist()
print(json.dumps(answers))
"""
WRITE_ROWS = """
import json, pandas as pd
rows = pd.read_csv("data/01_raw/dataset.csv").drop(columns=["target"]).sample(40, random_state=3)
rows.to_csv("{rows}", index=False)
print(json.dumps(len(rows)))
"""


def rows_file(project) -> Path:
    """Raw rows without the target, as production sends them (beside the project, not in it)."""
    return project.path.parent / "rows_to_predict.csv"


def onnxruntime_answer(project) -> dict:
    """ONNX Runtime on the highest exported version (what Triton serves) with its contract."""
    return project.run_python(ONNXRUNTIME.format(model=project.model, rows=rows_file(project)))


@pytest.fixture(scope="module", params=PROJECTS)
def served(request) -> Served:
    """The project trained (`make repro`, a no-op after earlier tests), exported and served."""
    project = request.getfixturevalue(request.param)
    project.make("repro")
    project.make("export")
    project.run_python(WRITE_ROWS.format(rows=rows_file(project)))
    with serving(project) as server:
        yield server


def test_metadata_matches_the_exported_contract(served):
    contract = onnxruntime_answer(served.project)
    status, metadata = http_json(f"{served.base}/v2/models/{served.model}")
    assert status == 200
    assert [i["name"] for i in metadata["inputs"]] == ["features"]
    assert metadata["inputs"][0]["shape"] == [-1, contract["n_features"]]
    assert metadata["outputs"][0]["shape"] == [-1, contract["n_outputs"]]
    expected_outputs = 2 if served.project.answers["task"] == "classification" else 1
    assert contract["n_outputs"] == expected_outputs
    assert contract["task"] == served.project.answers["task"]
    # Every raw column but the target, by name (the tabular profile's radius_band included).
    with rows_file(served.project).open() as rows:
        assert sorted(contract["feature_columns"]) == sorted(next(csv.reader(rows)))


def test_http_and_grpc_answer_like_onnxruntime(served):
    expected = onnxruntime_answer(served.project)["expected"]
    answers = served.project.run_python(
        CLIENT.format(
            model=served.model,
            rows=rows_file(served.project),
            http=served.ports["HTTP"],
            grpc=served.ports["GRPC"],
        )
    )
    for protocol, answer in answers.items():
        diff = np.abs(np.array(answer) - np.array(expected)).max()
        assert diff < 1e-5, (protocol, diff)


def test_make_predict_prints_what_onnxruntime_computes(served):
    """`make predict ROWS=...` names its columns from the contract inside model.onnx."""
    onnx = onnxruntime_answer(served.project)
    result = served.project.make("predict", f"ROWS={rows_file(served.project)}", env=served.env())
    # make echoes the command first; the CSV starts at its header.
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(("p_", "prediction")))
    columns, *rows = list(csv.reader(lines[header:]))
    expected = np.array(onnx["expected"])
    assert len(rows) == len(expected) == 40
    if onnx["task"] == "classification":
        labels = [str(label) for label in onnx["class_labels"]]
        assert columns == [f"p_{label}" for label in labels] + ["label"]
        probabilities = np.array([[float(v) for v in row[:-1]] for row in rows])
        assert np.abs(probabilities - expected).max() < 1e-5
        assert [row[-1] for row in rows] == [labels[i] for i in expected.argmax(axis=1)]
    else:
        assert columns == ["prediction"]
        predictions = np.array([float(row[0]) for row in rows])
        assert np.abs(predictions - expected[:, 0]).max() < 1e-3


def test_malformed_request_is_refused_and_server_stays_ready(served):
    bad = {
        "inputs": [
            {"name": "features", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}
        ]
    }
    status, body = http_json(f"{served.base}/v2/models/{served.model}/infer", bad)
    assert status == 400, body
    assert "error" in body
    assert http_json(f"{served.base}/v2/health/ready")[0] == 200


@pytest.mark.parametrize("served", PROJECTS[:1], indirect=True)
def test_rollback_changes_the_served_version(served):
    project = served.project
    # A second registration of the same model ties with the champion, and a tie is promoted.
    subprocess.run(
        [str(project.path / ".venv" / "bin" / "kedro"), "run", "--pipeline", "evaluation"],
        cwd=project.path,
        check=True,
        capture_output=True,
        env=user_env({"KEDRO_DISABLE_TELEMETRY": "true"}),
    )
    project.make("export")
    wait_for(lambda: "2" in served.versions(), 60, "version 2 to be served")
    project.make("rollback")
    wait_for(lambda: served.versions() == ["1"], 60, "rollback to version 1")


def test_sigterm_to_make_serve_stops_the_server(served):
    """SIGTERM to `make serve` alone (as a supervisor sends it) stops tritonserver, as Ctrl-C does.

    make forwards SIGTERM to its child, `kedro serving serve`, which stops the server it runs
    in a session of its own; nothing of it may be left, and its three ports are free again.
    """
    assert triton_processes(served.project.path), "the server should run before the signal"
    started = time.perf_counter()
    served.process.send_signal(signal.SIGTERM)  # the make process only, not its group
    served.process.wait(timeout=60)
    print(
        f"[e2e] {served.project.path.parent.name}: make serve stopped by SIGTERM in "
        f"{time.perf_counter() - started:.1f} s"
    )
    assert triton_processes(served.project.path) == []
    busy = {name: port for name, port in served.ports.items() if not port_is_free(port)}
    assert not busy, f"ports still taken after the server stopped: {busy}"
    assert "SIGTERM: stopping tritonserver" in served.log.read_text()
