"""The serving contract: ServingModule(network, preprocessor), check_network, predict_frame."""

import numpy as np
import pytest
import torch
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import ServingModule, check_network
from tests.helpers import (
    data_params,
    default_factory,
    fit_preprocessor,
    make_frame,
    split,
    training_params,
)


def _state(task: str) -> Preprocessor:
    train_set, _, _ = split(make_frame(task))
    return fit_preprocessor(train_set, data_params(task))


def _default_model(task: str) -> ServingModule:
    state = _state(task)
    torch.manual_seed(0)
    return ServingModule(default_factory(state, training_params(hidden_sizes=[4])), state).eval()


def _inputs(state: Preprocessor, n: int = 3) -> torch.Tensor:
    return torch.from_numpy(state.transform(make_frame(state.task).head(n)))


def test_classification_outputs_probabilities_and_contract():
    model = _default_model("classification")
    x = _inputs(model.preprocessor)
    proba = model(x)
    assert proba.shape == (3, 2)
    assert proba.dtype == torch.float32
    assert torch.allclose(proba.sum(dim=1), torch.ones(3))
    assert (proba >= 0).all()
    assert torch.allclose(proba, torch.softmax(model.scores(x), dim=1))
    assert model.feature_columns == ["x1", "x2", "colour", "day"]
    assert model.task == "classification"
    # Text labels are kept as they come; outputs are named by them.
    assert model.class_labels == ["no", "yes"]
    assert model.output_names == ["proba_no", "proba_yes"]


def test_predict_frame_answers_raw_rows_with_missing_and_unseen_values():
    model = _default_model("classification")
    rows = make_frame("classification").head(4).copy()
    rows.loc[0, "colour"] = "never seen, with a comma"
    rows.loc[1, "x2"] = np.nan
    rows.loc[2, "colour"] = None
    out = model.predict_frame(rows)
    assert out.shape == (4, 2)
    assert np.isfinite(out).all()
    with torch.no_grad():
        expected = model(torch.from_numpy(model.preprocessor.transform(rows))).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    # Chunked scoring gives the same answers as one pass.
    np.testing.assert_allclose(model.predict_frame(rows, batch_size=3), out, rtol=1e-6)


def test_regression_outputs_target_units():
    """Any module honouring the contract is accepted: here a bare linear layer."""
    state = _state("regression")
    network = nn.Linear(state.n_inputs, 1)
    with torch.no_grad():
        network.weight.zero_()
        network.bias.fill_(1.0)
    model = ServingModule(network, state).eval()
    with torch.no_grad():
        out = model(_inputs(state))
    assert out.shape == (3, 1)
    # A scaled output of 1.0 is one target std above the mean.
    expected = state.target_mean + state.target_std
    assert torch.allclose(out, torch.full((3, 1), expected))
    assert model.output_names == ["prediction"]
    assert model.class_labels == []


def test_wrapping_keeps_the_network_training_mode():
    state = _state("classification")
    network = default_factory(state, training_params(dropout=0.5))
    ServingModule(network, state)
    assert network.training, "check_network must restore the mode it found"
    network.eval()
    check_network(network, state)
    assert not network.training


@pytest.mark.parametrize(
    ("task", "width", "contract"),
    [
        ("classification", 1, r"\[batch, 2\] \(one score per class\)"),
        ("regression", 3, r"\[batch, 1\] \(one score per target\)"),
    ],
)
def test_wrong_output_width_names_the_contract(task, width, contract):
    state = _state(task)
    message = rf"\(2, {width}\) for a batch of 2; the contract is {contract}"
    with pytest.raises(TypeError, match=message):
        ServingModule(nn.Linear(state.n_inputs, width), state)


def test_non_tensor_output_names_the_contract():
    class TwoHeads(nn.Module):
        def forward(self, x):
            return x[:, :1], x[:, 1:]

    with pytest.raises(TypeError, match=r"to tuple for a batch of 2; the contract is \[batch, 1\]"):
        check_network(TwoHeads(), _state("regression"))


def test_wrong_input_width_names_the_contract():
    """A network built for another width fails inside torch; the error says what it must accept."""
    state = _state("regression")
    pattern = rf"float32 batch of shape \[2, {state.n_inputs}\].*feature_names"
    with pytest.raises(TypeError, match=pattern):
        ServingModule(nn.Linear(state.n_inputs + 1, 1), state)


@pytest.mark.parametrize("not_a_module", [lambda x: x, None, [nn.Linear(3, 1)]])
def test_not_a_module_names_the_contract(not_a_module):
    with pytest.raises(TypeError, match=r"build_model must return a torch\.nn\.Module.*model\.py"):
        ServingModule(not_a_module, _state("regression"))
