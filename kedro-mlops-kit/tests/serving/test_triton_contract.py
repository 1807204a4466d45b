"""Contract tests against a real tritonserver serving the exported repository."""

import urllib.request

import numpy as np
import pandas as pd
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from click.testing import CliRunner
from tritonclient.utils import InferenceServerException

from kedro_mlops_kit.serving.cli import serving
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.contract import ModelSignature, repository_contract
from kedro_mlops_kit.serving.errors import InferenceError, ModelRepositoryError
from kedro_mlops_kit.serving.model_config import read_config
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL, onnx_predict
from kedro_mlops_kit.serving.predict import predict_frame

from .conftest import MODEL_NAME
from .tiny_model import AGE, FEATURES, LABELS, SCORE, WIRE_TYPES

pytestmark = pytest.mark.triton


@pytest.fixture(params=["http", "grpc"])
def client(request, triton, exported_repo):
    url = triton.http_url if request.param == "http" else triton.grpc_url
    contract = repository_contract(exported_repo, MODEL_NAME)
    with TritonClient(url, request.param, MODEL_NAME, contract=contract) as typed_client:
        yield typed_client


def test_server_became_ready_quickly(triton):
    assert triton.ready_seconds is not None
    assert triton.ready_seconds < 30


def test_health_and_metadata_match_the_model(client, exported_repo):
    config = read_config(exported_repo / MODEL_NAME / "config.pbtxt")
    assert client.is_live()
    assert client.is_ready()
    info = client.info()
    assert info.name == MODEL_NAME
    # latest { num_versions: 2 } keeps the previous version loaded for fallback.
    assert set(info.versions) == {"1", "2"}
    # Tensors are auto-completed from model.onnx: one [batch, 1] input per raw column, named by
    # the column (commas, quotes, spaces, accents), in its wire type; the config lists none.
    assert sorted((t.name, t.datatype, t.shape) for t in info.inputs) == sorted(
        (name, WIRE_TYPES[name], (-1, 1)) for name in FEATURES
    )
    assert [(t.name, t.datatype, t.shape) for t in info.outputs] == [
        ("predictions", "FP32", (-1, 3))
    ]
    assert info.max_batch_size == config.max_batch_size == 256
    assert sorted(info.feature_columns) == sorted(FEATURES)
    assert info.datatypes == WIRE_TYPES
    assert info.class_labels == tuple(LABELS)
    assert info.task == "classification"


def test_contract_of_other_columns_is_refused(triton, exported_repo):
    served = repository_contract(exported_repo, MODEL_NAME)
    wrong = ModelSignature(
        feature_columns=("a", "b"),
        datatypes={"a": "FP32", "b": "FP32"},
        n_outputs=3,
        task="classification",
        class_labels=tuple(LABELS),
        schema_yaml=served.schema_yaml,
    )
    with (
        TritonClient(triton.http_url, "http", MODEL_NAME, contract=wrong) as typed,
        pytest.raises(ModelRepositoryError, match="served model takes"),
    ):
        typed.info()


def test_predictions_equal_onnxruntime_and_pytorch(client, holdout, registry, exported_repo):
    served = client.predict(holdout)
    module = registry[2]
    onnx_out = onnx_predict(
        exported_repo / MODEL_NAME / "2" / "model.onnx", module.preprocessor.wire(holdout)
    )
    assert served.shape == (len(holdout), 3)
    assert served.dtype == np.float32
    np.testing.assert_allclose(served, onnx_out, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(served, module.predict_frame(holdout), atol=ATOL, rtol=RTOL)


def test_previous_version_is_addressable(triton, holdout, registry):
    with TritonClient(triton.http_url, "http", MODEL_NAME, model_version="1") as v1:
        np.testing.assert_allclose(
            v1.predict(holdout), registry[1].predict_frame(holdout), atol=ATOL, rtol=RTOL
        )


def test_client_chunks_inputs_above_max_batch_size(client, holdout, registry):
    big = pd.concat([holdout] * 13, ignore_index=True)  # 624 rows > max_batch_size 256
    big[AGE] = big[AGE] + np.arange(len(big)) / 10
    np.testing.assert_allclose(
        client.predict(big), registry[2].predict_frame(big), atol=ATOL, rtol=RTOL
    )


def _raw_http_infer(triton, inputs):
    raw = httpclient.InferenceServerClient(triton.http_url)
    infer_inputs = []
    for name, array, datatype in inputs:
        infer_input = httpclient.InferInput(name, list(array.shape), datatype)
        infer_input.set_data_from_numpy(array)
        infer_inputs.append(infer_input)
    try:
        return raw.infer(MODEL_NAME, infer_inputs)
    finally:
        raw.close()


def _replace(inputs, column, array, datatype):
    return [(column, array, datatype) if name == column else (name, a, d) for name, a, d in inputs]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda inputs, wire: _replace(inputs, AGE, wire[AGE].astype(np.float64), "FP64"),
            "'age, years' data-type is 'FP64', but model .* expects 'FP32'",
        ),
        (
            lambda inputs, wire: _replace(
                inputs, AGE, np.array([[b"forty"]] * len(wire[AGE]), np.object_), "BYTES"
            ),
            "'age, years' data-type is 'BYTES'",
        ),
        (
            lambda inputs, wire: [i for i in inputs if i[0] != SCORE],
            r"missing required input\(s\) \['scoré'\]",
        ),
        (
            lambda inputs, wire: [*inputs, ("extra", wire[AGE], "FP32")],
            "expected 6 inputs but got 7",
        ),
        (
            lambda inputs, wire: _replace(inputs, AGE, np.repeat(wire[AGE], 2, axis=1), "FP32"),
            "unexpected shape for input 'age, years'",
        ),
        (
            lambda inputs, wire: _replace(inputs, AGE, wire[AGE][:2], "FP32"),
            "'age, years' batch size does not match",
        ),
        (
            lambda inputs, wire: [(n, np.repeat(a, 86, axis=0)[:257], d) for n, a, d in inputs],
            "batch-size must be <= 256",
        ),
    ],
    ids=["dtype", "text-for-number", "missing-input", "extra-input", "shape", "batch-mismatch",
         "batch-too-large"],
)  # fmt: skip
def test_server_rejects_malformed_requests_and_stays_up(triton, holdout, registry, mutate, match):
    wire = registry[2].preprocessor.wire(holdout.head(3))
    inputs = [(name, wire[name], WIRE_TYPES[name]) for name in FEATURES]
    with pytest.raises(InferenceServerException, match=match):
        _raw_http_infer(triton, mutate(inputs, wire))
    with TritonClient(triton.http_url, "http", MODEL_NAME) as healthy:
        assert healthy.is_live()
        assert healthy.predict(holdout.head(3)).shape == (3, 3)


def test_server_errors_surface_as_inference_error_over_grpc(triton, holdout):
    with TritonClient(triton.grpc_url, "grpc", MODEL_NAME) as typed:
        good = typed.prepare(holdout.head(2))
        # Bypass client-side checks to prove server errors are wrapped, not leaked.
        typed.prepare = lambda _rows: {k: v for k, v in good.items() if k != SCORE}
        with pytest.raises(InferenceError, match="Triton rejected the request.*scoré"):
            typed.predict(holdout.head(2))
        del typed.prepare
        assert typed.predict(holdout.head(2)).shape == (2, 3)


def test_grpc_raw_request_with_wrong_name_is_rejected(triton):
    raw = grpcclient.InferenceServerClient(triton.grpc_url)
    infer_input = grpcclient.InferInput("features", [1, 6], "FP32")
    infer_input.set_data_from_numpy(np.zeros((1, 6), np.float32))
    with pytest.raises(InferenceServerException):
        raw.infer(MODEL_NAME, [infer_input])
    assert raw.is_server_live()
    raw.close()


def test_metrics_endpoint_counts_inferences(triton, holdout):
    with TritonClient(triton.http_url, "http", MODEL_NAME) as typed:
        typed.predict(holdout.head(1))
    with urllib.request.urlopen(triton.metrics_url, timeout=5) as response:
        body = response.read().decode()
    assert f'nv_inference_request_success{{model="{MODEL_NAME}"' in body


def test_predict_frame_names_outputs_by_label(triton, holdout, exported_repo, registry):
    frame = predict_frame(
        holdout.head(5),
        model_name=MODEL_NAME,
        url=triton.http_url,
        repository=exported_repo,
    )
    assert list(frame.columns) == [*(f"p_{label}" for label in LABELS), "label"]
    expected = registry[2].predict_frame(holdout.head(5))
    np.testing.assert_allclose(frame.iloc[:, :3].to_numpy(), expected, atol=ATOL, rtol=RTOL)
    assert list(frame["label"]) == [LABELS[i] for i in expected.argmax(axis=1)]


def test_predict_cli_reads_named_columns(triton, holdout, tmp_path, registry, exported_repo):
    csv = tmp_path / "rows.csv"
    # Awkward names and values (commas, quotes, accents, missing text and numbers, dates as
    # text) go through a CSV file, as a user's would.
    holdout.head(8).to_csv(csv, index=False)
    out = tmp_path / "predictions.csv"
    args = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", triton.grpc_url]
    args += ["--protocol", "grpc", "--model-repository", str(exported_repo), "--output", str(out)]
    result = CliRunner().invoke(serving, args)
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    # Labels with commas and accents survive export -> model.onnx -> client -> CSV.
    assert list(predictions.columns) == ["p_a,b", "p_café", "p_no", "label"]
    expected = registry[2].predict_frame(holdout.head(8))
    np.testing.assert_allclose(predictions.iloc[:, :3].to_numpy(), expected, atol=ATOL, rtol=RTOL)


def test_predict_cli_without_repository_leaves_outputs_unlabelled(triton, holdout, tmp_path):
    csv = tmp_path / "rows.csv"
    holdout.head(2).to_csv(csv, index=False)
    args = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", triton.http_url]
    args += ["--model-repository", str(tmp_path / "nowhere")]
    result = CliRunner().invoke(serving, args)
    # Columns are matched by name from the server's metadata; without the contract there are
    # no labels to name the outputs by.
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "output_0,output_1,output_2"
    assert len(result.output.splitlines()) == 3


def test_predict_cli_reports_bad_rows(triton, holdout, tmp_path, exported_repo):
    csv = tmp_path / "rows.csv"
    holdout.head(3).drop(columns=[SCORE]).to_csv(csv, index=False)
    args = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", triton.http_url]
    result = CliRunner().invoke(serving, [*args, "--model-repository", str(exported_repo)])
    assert result.exit_code == 1
    assert "predict failed:" in result.output
    assert "'scoré'" in result.output
