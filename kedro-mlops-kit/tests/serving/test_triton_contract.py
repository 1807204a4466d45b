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
from kedro_mlops_kit.serving.contract import repository_contract
from kedro_mlops_kit.serving.errors import InferenceError, InvalidInputError, ModelRepositoryError
from kedro_mlops_kit.serving.model_config import read_config
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL, onnx_predict, torch_predict
from kedro_mlops_kit.serving.predict import predict_frame

from .conftest import MODEL_NAME
from .tiny_model import FEATURES, LABELS

pytestmark = pytest.mark.triton


@pytest.fixture(params=["http", "grpc"])
def client(request, triton, exported_repo):
    url = triton.http_url if request.param == "http" else triton.grpc_url
    contract = repository_contract(exported_repo, MODEL_NAME)
    with TritonClient(url, request.param, MODEL_NAME, contract=contract) as typed_client:
        yield typed_client


@pytest.fixture
def rows(holdout):
    return holdout[FEATURES].to_numpy(np.float32)


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
    # Tensors are auto-completed from model.onnx: exact dims although the config has none.
    assert [(t.name, t.datatype, t.shape) for t in info.inputs] == [("features", "FP32", (-1, 4))]
    assert [(t.name, t.datatype, t.shape) for t in info.outputs] == [
        ("predictions", "FP32", (-1, 3))
    ]
    assert info.max_batch_size == config.max_batch_size == 256
    assert info.feature_columns == tuple(FEATURES)
    assert info.class_labels == tuple(LABELS)
    assert info.task == "classification"


def test_contract_of_another_width_is_refused(triton):
    from kedro_mlops_kit.serving.contract import ModelSignature

    wrong = ModelSignature(5, 3, tuple("abcde"), "classification", tuple(LABELS))
    with (
        TritonClient(triton.http_url, "http", MODEL_NAME, contract=wrong) as typed,
        pytest.raises(ModelRepositoryError, match="served model takes 4"),
    ):
        typed.info()


def test_predictions_equal_onnxruntime_and_pytorch(client, rows, registry, exported_repo):
    served = client.predict(rows)
    onnx = onnx_predict(exported_repo / MODEL_NAME / "2" / "model.onnx", rows)
    torch_out = torch_predict(registry[2], rows)
    assert served.shape == (len(rows), 3)
    assert served.dtype == np.float32
    np.testing.assert_allclose(served, onnx, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(served, torch_out, atol=ATOL, rtol=RTOL)


def test_previous_version_is_addressable(triton, rows, registry):
    with TritonClient(triton.http_url, "http", MODEL_NAME, model_version="1") as v1:
        np.testing.assert_allclose(
            v1.predict(rows), torch_predict(registry[1], rows), atol=ATOL, rtol=RTOL
        )


def test_client_chunks_inputs_above_max_batch_size(client, registry):
    big = np.tile(np.array([[40.0, 50_000.0, 0.5, 3.0]], np.float32), (600, 1))
    big[:, 0] += np.arange(600, dtype=np.float32) / 10
    np.testing.assert_allclose(
        client.predict(big), torch_predict(registry[2], big), atol=ATOL, rtol=RTOL
    )


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros((2, 5), np.float32), "shape"),
        (np.zeros((2, 4), np.float64), "float32"),
        (np.array([[1.0, np.nan, 0.5, 2.0]], np.float32), "NaN"),
        (np.zeros((0, 4), np.float32), "shape"),
    ],
)
def test_client_rejects_malformed_input_before_sending(client, bad, match):
    with pytest.raises(InvalidInputError, match=match):
        client.predict(bad)


def _raw_http_infer(triton, name, array, datatype):
    raw = httpclient.InferenceServerClient(triton.http_url)
    infer_input = httpclient.InferInput(name, list(array.shape), datatype)
    infer_input.set_data_from_numpy(array)
    try:
        return raw.infer(MODEL_NAME, [infer_input])
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("name", "array", "datatype", "match"),
    [
        ("features", np.zeros((2, 5), np.float32), "FP32", "shape"),
        ("features", np.zeros((2, 4), np.float64), "FP64", "FP64|data-type|datatype"),
        ("inputs", np.zeros((2, 4), np.float32), "FP32", "inputs"),
        ("features", np.array([[1.0, np.nan, 0.5, 2.0]], np.float32), "FP32", "NaN"),
        ("features", np.zeros((257, 4), np.float32), "FP32", "batch"),
    ],
    ids=["feature-count", "dtype", "input-name", "nan", "batch-too-large"],
)
def test_server_rejects_malformed_requests_and_stays_up(triton, rows, name, array, datatype, match):
    with pytest.raises(InferenceServerException, match=match):
        _raw_http_infer(triton, name, array, datatype)
    with TritonClient(triton.http_url, "http", MODEL_NAME) as healthy:
        assert healthy.is_live()
        assert healthy.predict(rows[:3]).shape == (3, 3)


def test_server_errors_surface_as_inference_error_over_grpc(triton, rows):
    with TritonClient(triton.grpc_url, "grpc", MODEL_NAME) as typed:
        typed.info()
        # Bypass client-side validation to prove server errors are wrapped, not leaked.
        typed.validate = lambda _rows: None
        with pytest.raises(InferenceError, match="NaN"):
            typed.predict(np.array([[1.0, np.nan, 0.5, 2.0]], np.float32))
        assert typed.predict(rows[:2]).shape == (2, 3)


def test_grpc_raw_request_with_wrong_name_is_rejected(triton):
    raw = grpcclient.InferenceServerClient(triton.grpc_url)
    infer_input = grpcclient.InferInput("wrong", [1, 4], "FP32")
    infer_input.set_data_from_numpy(np.zeros((1, 4), np.float32))
    with pytest.raises(InferenceServerException):
        raw.infer(MODEL_NAME, [infer_input])
    assert raw.is_server_live()
    raw.close()


def test_metrics_endpoint_counts_inferences(triton, rows):
    with TritonClient(triton.http_url, "http", MODEL_NAME) as typed:
        typed.predict(rows[:1])
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
    expected = torch_predict(registry[2], holdout.head(5)[FEATURES].to_numpy(np.float32))
    np.testing.assert_allclose(frame.iloc[:, :3].to_numpy(), expected, atol=1e-5)
    assert set(frame["label"]) <= set(LABELS)


def test_predict_cli_reads_named_columns(triton, holdout, tmp_path, registry, exported_repo):
    csv = tmp_path / "rows.csv"
    holdout.head(5).to_csv(csv, index=False)
    out = tmp_path / "predictions.csv"
    args = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", triton.grpc_url]
    args += ["--protocol", "grpc", "--model-repository", str(exported_repo), "--output", str(out)]
    result = CliRunner().invoke(serving, args)
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    # Labels with commas and accents survive export -> model.onnx -> client -> CSV.
    assert list(predictions.columns) == ["p_no", "p_a,b", "p_café", "label"]
    expected = torch_predict(registry[2], holdout.head(5)[FEATURES].to_numpy(np.float32))
    np.testing.assert_allclose(predictions.iloc[:, :3].to_numpy(), expected, atol=1e-5)


def test_predict_cli_without_repository_needs_feature_columns(triton, holdout, tmp_path):
    csv = tmp_path / "rows.csv"
    holdout.head(2).to_csv(csv, index=False)
    base = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", triton.http_url]
    base += ["--model-repository", str(tmp_path / "nowhere")]
    failed = CliRunner().invoke(serving, base)
    assert failed.exit_code == 1
    assert "predict failed:" in failed.output
    assert "--feature-columns" in failed.output
    import json

    ok = CliRunner().invoke(serving, [*base, "--feature-columns", json.dumps(FEATURES)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == "output_0,output_1,output_2"
