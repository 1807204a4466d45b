"""The serving contract: ServingModule(network, preprocessor) and check_network."""

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import FeatureTransform, ServingModule, check_network
from tests.helpers import default_factory, training_params


def _state(task: str) -> Preprocessor:
    return Preprocessor(
        task=task,
        target="target",
        feature_columns=["x1", "colour", "x2"],
        categorical_columns=["colour"],
        means={"x1": 10.0, "x2": -5.0},
        stds={"x1": 2.0, "x2": 0.5},
        categories={"colour": [0.0, 1.0, 2.0]},
        class_labels=[0, 1, 2] if task == "classification" else [],
        target_mean=100.0 if task == "regression" else None,
        target_std=20.0 if task == "regression" else None,
    )


def _default_model(task: str) -> ServingModule:
    state = _state(task)
    return ServingModule(default_factory(state, training_params(hidden_sizes=[4])), state).eval()


RAW = torch.tensor([[12.0, 2.0, -5.5], [10.0, 0.0, -5.0], [8.0, 7.0, -4.0]])


def test_transform_standardises_and_one_hot_encodes():
    out = FeatureTransform(_state("classification"))(RAW)
    expected = torch.tensor(
        [
            [1.0, -1.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0, 0.0],
            # colour=7 was never seen in training: all-zero one-hot, no failure.
            [-1.0, 2.0, 0.0, 0.0, 0.0],
        ]
    )
    assert torch.allclose(out, expected)


def test_classification_outputs_probabilities_and_contract():
    model = _default_model("classification")
    proba = model(RAW)
    assert proba.shape == (3, 3)
    assert proba.dtype == torch.float32
    assert torch.allclose(proba.sum(dim=1), torch.ones(3))
    assert (proba >= 0).all()
    assert torch.allclose(proba, torch.softmax(model.scores(RAW), dim=1))
    assert model.feature_columns == ["x1", "colour", "x2"]
    assert model.task == "classification"
    assert model.class_labels == [0, 1, 2]
    assert model.output_names == ["proba_0", "proba_1", "proba_2"]


def test_regression_outputs_target_units():
    """Any module honouring the contract is accepted: here a bare linear layer."""
    network = nn.Linear(3, 1)
    with torch.no_grad():
        network.weight.zero_()
        network.bias.fill_(1.0)
    model = ServingModule(network, _state("regression")).eval()
    with torch.no_grad():
        out = model(RAW)
    assert out.shape == (3, 1)
    # A scaled output of 1.0 is one target std above the mean.
    assert torch.allclose(out, torch.full((3, 1), 120.0))
    assert model.output_names == ["prediction"]
    assert model.class_labels == []


def test_wrapping_keeps_the_network_training_mode():
    network = default_factory(_state("classification"), training_params(dropout=0.5))
    ServingModule(network, _state("classification"))
    assert network.training, "check_network must restore the mode it found"
    network.eval()
    check_network(network, _state("classification"))
    assert not network.training


@pytest.mark.parametrize(
    ("task", "width", "contract"),
    [
        ("classification", 1, r"\[batch, 3\] \(one score per class\)"),
        ("regression", 3, r"\[batch, 1\] \(one score per target\)"),
    ],
)
def test_wrong_output_width_names_the_contract(task, width, contract):
    message = rf"\(2, {width}\) for a batch of 2; the contract is {contract}"
    with pytest.raises(TypeError, match=message):
        ServingModule(nn.Linear(3, width), _state(task))


def test_non_tensor_output_names_the_contract():
    class TwoHeads(nn.Module):
        def forward(self, x):
            return x[:, :1], x[:, 1:]

    with pytest.raises(TypeError, match=r"to tuple for a batch of 2; the contract is \[batch, 1\]"):
        check_network(TwoHeads(), _state("regression"))


def test_wrong_input_width_names_the_contract():
    """A network built for 4 features fails inside torch; the error says what it must accept."""
    with pytest.raises(TypeError, match=r"float32 batch of shape \[2, 3\].*feature_columns"):
        ServingModule(nn.Linear(4, 1), _state("regression"))


@pytest.mark.parametrize("not_a_module", [lambda x: x, None, [nn.Linear(3, 1)]])
def test_not_a_module_names_the_contract(not_a_module):
    with pytest.raises(TypeError, match=r"build_model must return a torch\.nn\.Module.*model\.py"):
        ServingModule(not_a_module, _state("regression"))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_onnx_export_has_dynamic_batch_and_matches_torch(task, tmp_path):
    torch.manual_seed(0)
    model = _default_model(task)
    path = tmp_path / "model.onnx"
    torch.onnx.export(
        model,
        (RAW[:2],),
        str(path),
        input_names=["input"],
        output_names=["output"],
        dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
        dynamo=True,
        verbose=False,
    )
    batch = torch.cat([RAW] * 3)
    (onnx_out,) = ort.InferenceSession(str(path)).run(None, {"input": batch.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(onnx_out, model(batch).numpy(), rtol=1e-5, atol=1e-6)
