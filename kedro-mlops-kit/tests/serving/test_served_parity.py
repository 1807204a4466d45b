"""The served model answers raw rows exactly as the trained module does; bad requests are named.

Parity covers what production sends: missing numbers, dates and text, an unseen category, text
with commas, quotes, accents and the empty string, an extra column. It is checked through the
typed client over HTTP and gRPC, and through a raw KServe v2 JSON request by input name, as any
non-Python client would send it.
"""

import json
import math
import urllib.request

import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.serving.cli import serving
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.contract import repository_contract
from kedro_mlops_kit.serving.errors import InvalidInputError, ServerNotReadyError
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL
from kedro_mlops_kit.serving.ports import free_port

from .conftest import MODEL_NAME
from .tiny_model import AGE, COLOUR, SCORE, SIGNUP, awkward_rows


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = awkward_rows()
    # The rows really hold what they claim to.
    assert frame[SCORE].isna().any() and frame[SIGNUP].isna().any()
    assert frame[COLOUR].isna().any() and (frame[COLOUR] == "").any()
    assert "purple" in set(frame[COLOUR])  # unseen in training
    return frame


def _url(triton, protocol: str) -> str:
    return triton.http_url if protocol == "http" else triton.grpc_url


@pytest.mark.triton
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_served_model_answers_like_the_module(triton, exported_repo, registry, rows, protocol):
    contract = repository_contract(exported_repo, MODEL_NAME)
    expected = registry[2].predict_frame(rows)
    with TritonClient(_url(triton, protocol), protocol, MODEL_NAME, contract=contract) as client:
        served = client.predict(rows)
        # Row by row too: batch size 1 through the dynamic batcher.
        single = np.concatenate([client.predict(rows.iloc[[i]]) for i in range(len(rows))])
    np.testing.assert_allclose(served, expected, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(single, expected, atol=ATOL, rtol=RTOL)


def _column_data(values: pd.Series, datatype: str) -> list:
    """One column in KServe v2 JSON form, built without the kit's own conversion."""
    if datatype == "BYTES":
        return ["" if pd.isna(v) else str(v) for v in values]
    if datatype == "BOOL":
        return [bool(v) for v in values]
    if datatype == "FP64":  # datetimes: Unix seconds (UTC); missing = NaN
        stamps = pd.to_datetime(values, utc=True)
        return [
            (s - pd.Timestamp(0, tz="UTC")).total_seconds() if not pd.isna(s) else math.nan
            for s in stamps
        ]
    return [float(v) for v in values]  # FP32; missing = NaN


@pytest.mark.triton
def test_raw_kserve_json_request_by_input_name(triton, registry, rows):
    base = f"http://{triton.http_url}/v2/models/{MODEL_NAME}"
    with urllib.request.urlopen(base, timeout=10) as response:
        metadata = json.loads(response.read())
    body = {
        "inputs": [
            {
                "name": tensor["name"],
                "shape": [len(rows), 1],
                "datatype": tensor["datatype"],
                "data": _column_data(rows[tensor["name"]], tensor["datatype"]),
            }
            for tensor in metadata["inputs"]
        ],
        "outputs": [{"name": "predictions"}],
    }
    # Missing numbers travel as bare NaN (Triton's JSON parser accepts it), missing text as "".
    text = json.dumps(body, ensure_ascii=False)
    assert "NaN" in text and '""' in text
    request = urllib.request.Request(
        f"{base}/infer",
        data=text.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    (output,) = answer["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == (
        "predictions",
        "FP32",
        [len(rows), 3],
    )
    served = np.asarray(output["data"], np.float32).reshape(output["shape"])
    np.testing.assert_allclose(served, registry[2].predict_frame(rows), atol=ATOL, rtol=RTOL)


# --- bad requests: refused before sending, with the column, the row and the fix -----------------


def _with_text_in_age(rows: pd.DataFrame) -> pd.DataFrame:
    bad = rows.copy()
    bad[AGE] = bad[AGE].astype(object)
    bad.loc[3, AGE] = "forty-two"
    return bad


@pytest.mark.triton
@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("with_contract", [True, False], ids=["contract", "no-contract"])
def test_missing_column_is_named(triton, exported_repo, rows, protocol, with_contract):
    contract = repository_contract(exported_repo, MODEL_NAME) if with_contract else None
    with (
        TritonClient(_url(triton, protocol), protocol, MODEL_NAME, contract=contract) as client,
        pytest.raises(InvalidInputError, match=r"'scoré'.*missing|missing.*'scoré'"),
    ):
        client.predict(rows.drop(columns=[SCORE]))


@pytest.mark.triton
@pytest.mark.parametrize(
    ("with_contract", "match"),
    [
        (True, r"column 'age, years' \(numeric.*at rows 3, e\.g\. 'forty-two'"),
        (False, r"column 'age, years' \(numeric\) cannot be read as FP32.*position 3"),
    ],
    ids=["contract", "no-contract"],
)
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_text_in_a_numeric_column_names_column_and_row(
    triton, exported_repo, rows, protocol, with_contract, match
):
    contract = repository_contract(exported_repo, MODEL_NAME) if with_contract else None
    with (
        TritonClient(_url(triton, protocol), protocol, MODEL_NAME, contract=contract) as client,
        pytest.raises(InvalidInputError, match=match),
    ):
        client.predict(_with_text_in_age(rows))


@pytest.mark.triton
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda r: r.assign(**{AGE: [np.nan] + [40.0] * (len(r) - 1)}), "'age, years'.*missing"),
        (lambda r: r.assign(**{SIGNUP: ["yesterday"] * len(r)}), "'signup, day'"),
        (lambda r: r.iloc[:0], "empty"),
        (lambda r: r.to_numpy(), "must be a pandas DataFrame"),
        (lambda r: {AGE: np.zeros((2, 1), np.float32)}, r"inputs \[.*\] are missing"),
    ],
    ids=["missing-not-allowed", "not-a-date", "no-rows", "not-a-frame", "partial-mapping"],
)
def test_client_rejects_other_bad_rows_before_sending(triton, exported_repo, rows, bad, match):
    contract = repository_contract(exported_repo, MODEL_NAME)
    with (
        TritonClient(triton.http_url, "http", MODEL_NAME, contract=contract) as client,
        pytest.raises(InvalidInputError, match=match),
    ):
        client.predict(bad(rows))


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_no_server_listening_names_the_address_and_make_serve(rows, protocol):
    url = f"127.0.0.1:{free_port()}"
    with (
        TritonClient(url, protocol, MODEL_NAME, timeout=5) as client,
        pytest.raises(ServerNotReadyError) as caught,
    ):
        client.predict(rows)
    message = str(caught.value)
    assert url in message
    assert "make serve" in message


def test_predict_cli_without_server_says_make_serve(rows, tmp_path):
    from click.testing import CliRunner

    csv = tmp_path / "rows.csv"
    rows.to_csv(csv, index=False)
    url = f"127.0.0.1:{free_port()}"
    args = ["predict", "--input", str(csv), "--model-name", MODEL_NAME, "--url", url]
    result = CliRunner().invoke(serving, [*args, "--model-repository", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "predict failed:" in result.output
    assert url in result.output and "make serve" in result.output
