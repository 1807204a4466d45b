"""End-to-end tier: every project exports its champion, serves it on a real local Triton, answers
like ONNX Runtime (through the client and through `make predict`) and stops on SIGTERM.

One run per project, so per answer that changes what is served: `task=classification` with the
ks detector (default), `task=regression` with mmd and an S3 remote, and the tabular profile with
the team's own embedding network (conftest.py). The rollback test runs on the default project.
"""

from __future__ import annotations

import csv
import json
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
# Runtime's answer on the raw rows, one input per column in its wire form.
ONNXRUNTIME = """
import json, numpy as np, onnxruntime as ort, pandas as pd
from kedro_mlops_kit.features import to_wire
from kedro_mlops_kit.serving.contract import repository_contract
from kedro_mlops_kit.serving.model_repository import version_dirs
folder = "serving/model_repository/{model}"
version = max(version_dirs(folder))
contract = repository_contract("serving/model_repository", "{model}", version)
session = ort.InferenceSession(f"{{folder}}/{{version}}/model.onnx")
rows = pd.read_csv("{rows}", keep_default_na=True)
print(json.dumps({{
    "version": version,
    "task": contract.task,
    "n_outputs": contract.n_outputs,
    "feature_columns": contract.feature_columns,
    "datatypes": contract.datatypes,
    "class_labels": contract.class_labels,
    "expected": session.run(None, to_wire(rows, contract.kinds))[0].tolist(),
}}))
"""
# The Python client sends the raw rows (a DataFrame) and checks them against the contract.
CLIENT = """
import json, pandas as pd
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.contract import repository_contract
contract = repository_contract("serving/model_repository", "{model}")
rows = pd.read_csv("{rows}")
answers = {{}}
for protocol, port in (("http", {http}), ("grpc", {grpc})):
    with TritonClient(
        f"127.0.0.1:{{port}}", protocol=protocol, model_name="{model}", contract=contract
    ) as client:
        answers[protocol] = client.predict(rows).tolist()
print(json.dumps(answers))
"""
# 40 raw rows as production sends them (no target), with awkward values where the schema
# allows them: a category never seen in training with a comma, quotes and non-ASCII text,
# a missing category, a missing number.
WRITE_ROWS = """
import json, numpy as np, pandas as pd
from kedro_mlops_kit.schema import load_schema
schema = load_schema()
rows = pd.read_csv("data/01_raw/dataset.csv").drop(columns=[schema.target])
rows = rows.sample(40, random_state=3).reset_index(drop=True)
awkward = []
for column in schema.columns_of("categorical"):
    rows[column] = rows[column].astype(object)
    rows.loc[0, column] = 'Nowhere, "far" - Ünïcode'
    awkward.append(column)
    if schema.nullable(column):
        rows.loc[1, column] = None
for column in schema.columns_of("numeric", "integer"):
    if schema.nullable(column):
        rows.loc[2, column] = np.nan
        awkward.append(column)
rows.to_csv("{rows}", index=False)
print(json.dumps(awkward))
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
    # One input per raw column, named by it, in its own type (Triton read them from model.onnx).
    inputs = {i["name"]: i for i in metadata["inputs"]}
    assert list(inputs) == contract["feature_columns"]
    assert {name: i["datatype"] for name, i in inputs.items()} == contract["datatypes"]
    assert {tuple(i["shape"]) for i in inputs.values()} == {(-1, 1)}
    assert metadata["outputs"][0]["shape"] == [-1, contract["n_outputs"]]
    if served.project.answers["task"] == "classification":
        assert contract["n_outputs"] == len(contract["class_labels"]) >= 2
    else:
        assert contract["n_outputs"] == 1
    assert contract["task"] == served.project.answers["task"]
    # Every raw column but the target and identifiers, by name.
    with rows_file(served.project).open() as rows:
        header = next(csv.reader(rows))
    assert set(contract["feature_columns"]) <= set(header)


def test_kserve_json_by_input_name_answers_like_onnxruntime(served):
    """Any language: a KServe v2 JSON request naming each input (missing numbers as NaN)."""
    onnx = onnxruntime_answer(served.project)
    with rows_file(served.project).open() as handle:
        first = dict(zip(*list(csv.reader(handle))[:2], strict=True))
    inputs = []
    for name in onnx["feature_columns"]:
        datatype, value = onnx["datatypes"][name], first[name]
        if datatype == "FP32":
            value = float(value) if value != "" else float("nan")
        elif datatype == "FP64":
            value = served.project.run_python(
                f"import json, pandas as pd; v = pd.Timestamp({value!r}, tz='UTC');"
                f" print(json.dumps(v.timestamp()))"
            )
        inputs.append({"name": name, "datatype": datatype, "shape": [1, 1], "data": [value]})
    status, body = http_json(f"{served.base}/v2/models/{served.model}/infer", {"inputs": inputs})
    assert status == 200, body
    answer = np.array(body["outputs"][0]["data"])
    assert np.abs(answer - np.array(onnx["expected"][0])).max() < 1e-5


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
    first = onnxruntime_answer(served.project)["feature_columns"][0]
    bad = {"inputs": [{"name": first, "shape": [1, 1], "datatype": "FP32", "data": [1.0]}]}
    status, body = http_json(f"{served.base}/v2/models/{served.model}/infer", bad)
    assert status == 400, body
    assert "missing required input" in body["error"] or "expected" in body["error"], body
    assert http_json(f"{served.base}/v2/health/ready")[0] == 200


# The true targets of the rows WRITE_ROWS sent, as ground truth arrives later: half of them,
# one id never scored, one row still unlabelled.
WRITE_LABELS = """
import json, pandas as pd
from kedro_mlops_kit.schema import load_schema
target = load_schema().target
truth = pd.read_csv("data/01_raw/dataset.csv").sample(40, random_state=3)[target].tolist()
scored = pd.concat(pd.read_parquet(p) for p in sorted(
    __import__("pathlib").Path("data/10_production/scored").glob("*.parquet")))
ids = scored["row_id"].tolist()
labels = pd.DataFrame({{"row_id": [*ids[:20], "never-scored"], target: [*truth[:20], truth[0]]}})
labels.loc[19, target] = None
labels.to_csv("{path}", index=False)
print(json.dumps({{"ids": len(ids), "versions": sorted(set(scored["model_version"].astype(str)))}}))
"""


def test_score_feedback_and_performance_record_production(served):
    """`make score`, `make feedback`, `make performance`: answers, late truth, the verdict."""
    project, env = served.project, served.env()
    project.make("score", f"BATCH={rows_file(project)}", env=env)
    labels = project.path.parent / "labels.csv"
    scored = project.run_python(WRITE_LABELS.format(path=labels))
    assert scored["ids"] == 40 and scored["versions"] == [str(max(served.versions(), key=int))]
    assert (project.path / "data" / "10_production.dvc").is_file(), "versioned by DVC"
    result = project.make("feedback", f"LABELS={labels}", env=env)
    assert "1 id(s) were never scored" in result.stderr
    assert '"rows_recorded": 19' in result.stdout and '"rows_without_label": 1' in result.stdout
    # Scoring the same batch twice would record it twice: refused.
    again = project.make("score", f"BATCH={rows_file(project)}", env=env, check=False)
    assert again.returncode != 0 and "scored already" in again.stderr
    project.make("performance", env=env)
    report = json.loads((project.path / "data/08_reporting/performance_report.json").read_text())
    assert [batch["rows"] for batch in report["batches"]] == [19]
    assert report["champion"]["metrics"], "the champion's test metrics beside production's"
    assert (project.path / "data/08_reporting/performance_report.png").stat().st_size > 5000


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
