"""train(): the one call a project's training node makes, for any network honouring the contract."""

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving.onnx_export import compose_served_graph, verify_onnx
from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.training.device import resolve_device
from kedro_mlops_kit.training.early_stopping import EarlyStopping
from kedro_mlops_kit.training.fit import to_training_data, train
from tests.helpers import (
    data_params,
    default_factory,
    fit_preprocessor,
    make_classification_frame,
    make_frame,
    split,
    train_tiny,
    training_params,
)

TEMPLATE_MODEL = Path(__file__).parents[3] / "template" / "src" / "{{package_name}}" / "model.py"


@pytest.mark.skipif(not TEMPLATE_MODEL.exists(), reason="outside the template repository")
def test_default_factory_is_the_projects_default_model():
    spec = importlib.util.spec_from_file_location("template_model", TEMPLATE_MODEL)
    template_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(template_model)
    train_set, _, _ = split(make_classification_frame())
    state = fit_preprocessor(train_set, data_params("classification"))
    params = training_params(hidden_sizes=[8, 4], dropout=0.1)
    torch.manual_seed(0)
    ours = default_factory(state, params)
    torch.manual_seed(0)
    theirs = template_model.build_model(state, params)
    assert repr(ours) == repr(theirs)
    _assert_same_weights(ours, theirs)


def _assert_same_weights(model_a: nn.Module, model_b: nn.Module) -> None:
    for (name, a), (_, b) in zip(
        model_a.state_dict().items(), model_b.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_same_seed_gives_identical_weights(task):
    model_a, history_a = train_tiny(task)
    model_b, history_b = train_tiny(task)
    _assert_same_weights(model_a, model_b)
    assert history_a == history_b


def test_different_seed_gives_different_weights():
    model_a, _ = train_tiny(seed=1)
    model_b, _ = train_tiny(seed=2)
    first_a, first_b = model_a.network[0].weight, model_b.network[0].weight
    assert not torch.equal(first_a, first_b)


def test_returns_a_serving_module_on_cpu_in_eval_mode_and_restores_determinism():
    before = torch.are_deterministic_algorithms_enabled()
    model, _ = train_tiny(epochs=2)
    assert torch.are_deterministic_algorithms_enabled() == before
    assert isinstance(model, ServingModule)
    assert not model.training
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert model.feature_columns == ["x1", "x2", "colour", "day"]


def test_history_has_one_record_per_epoch_and_learns():
    _, history = train_tiny(epochs=30, patience=100)
    assert [h["epoch"] for h in history] == list(range(1, 31))
    assert set(history[0]) == {"epoch", "train_loss", "val_loss", "val_metric", "processes"}
    assert {h["processes"] for h in history} == {1}, "one process outside torchrun"
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_metric"] > 0.8, "accuracy on a separable table"


def test_regression_history_reports_rmse_in_target_units():
    _, history = train_tiny("regression", epochs=30, patience=100)
    assert history[-1]["val_metric"] < history[0]["val_metric"]
    # The target spans tens of units; an RMSE reported on the standardised scale would be < 1.
    assert history[0]["val_metric"] > 1.0


def test_early_stopping_stops_after_patience():
    model = torch.nn.Linear(1, 1)
    stopper = EarlyStopping(patience=2)
    assert not stopper.update(1, 1.0, model)
    assert not stopper.update(2, 0.5, model)
    assert not stopper.update(3, 0.6, model)
    assert stopper.update(4, 0.7, model)
    assert stopper.best_epoch == 2


def test_early_stopping_restores_best_weights():
    model = torch.nn.Linear(1, 1)
    stopper = EarlyStopping(patience=3)
    stopper.update(1, 0.1, model)
    best = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    stopper.update(2, 0.2, model)
    stopper.restore_best(model)
    assert torch.equal(model.weight, best)


def test_training_stops_early_and_keeps_the_best_epoch():
    # A learning rate this high makes validation loss bounce, so patience runs out.
    model, history = train_tiny(epochs=200, patience=2, learning_rate=0.5)
    assert len(history) < 200
    best = min(h["val_loss"] for h in history)
    assert history[-1]["val_loss"] > best, "stopped after epochs without improvement"
    params = data_params("classification")
    train_set, validation_set, _ = split(make_classification_frame())
    state = fit_preprocessor(train_set, params)
    data = to_training_data(validation_set, state)
    with torch.no_grad():
        loss = float(nn.CrossEntropyLoss()(model.scores(data.x), data.y))
    assert loss == pytest.approx(best, rel=1e-5), "the returned weights are the best epoch's"


def test_labels_unseen_in_training_are_refused():
    params = data_params("classification")
    train_set, validation_set, _ = split(make_classification_frame())
    validation_set.loc[0, "target"] = "maybe"
    with pytest.raises(ValueError, match=r"Target labels \['maybe'\] were not seen"):
        train(
            lambda state, p: nn.Linear(state.n_inputs, 2),
            train_set,
            validation_set,
            fit_preprocessor(train_set, params),
            training_params(),
        )


def test_a_factory_breaking_the_contract_fails_before_training():
    with pytest.raises(TypeError, match=r"the contract is \[batch, 2\]"):
        train_tiny(build_model=lambda state, params: nn.Linear(state.n_inputs, 5))


def test_device_choice():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match=r"training\.device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")


def test_bad_device_parameter_fails_through_train():
    with pytest.raises(ValueError, match=r"training\.device must be one of"):
        train_tiny(device="gpu")


class EmbeddingNet(nn.Module):
    """A team's own architecture: an embedding per categorical column, then an MLP.

    The one-hot block of ``colour`` (its ``colour=...`` inputs, ``__unknown__`` included) goes
    through a bias-free linear layer, which is an embedding lookup; the other inputs are used as
    they come. Built from ``preprocessor.feature_names``, so it follows the fitted categories.
    """

    def __init__(self, preprocessor: Preprocessor, embedding_dim: int, hidden: int) -> None:
        super().__init__()
        names = preprocessor.feature_names
        one_hot = [i for i, name in enumerate(names) if name.startswith("colour=")]
        others = [i for i in range(len(names)) if i not in one_hot]
        self.register_buffer("one_hot_index", torch.tensor(one_hot))
        self.register_buffer("other_index", torch.tensor(others))
        self.embedding = nn.Linear(len(one_hot), embedding_dim, bias=False)
        self.head = nn.Sequential(
            nn.Linear(len(others) + embedding_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, preprocessor.n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(x.index_select(1, self.one_hot_index))
        return self.head(torch.cat([x.index_select(1, self.other_index), embedded], dim=1))


def build_embedding_model(preprocessor: Preprocessor, params: dict) -> nn.Module:
    return EmbeddingNet(preprocessor, params["embedding_dim"], params["hidden_sizes"][0])


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_custom_network_with_embedding_trains_and_serves_raw_rows_in_onnx(task, tmp_path):
    params = training_params(embedding_dim=2, epochs=30, patience=100)
    train_set, _, test_set = split(make_frame(task))
    state = fit_preprocessor(train_set, data_params(task))
    # train() seeds before building, so this is the embedding it starts from.
    initial = []
    for _ in range(2):
        torch.manual_seed(params["seed"])
        initial.append(build_embedding_model(state, params).embedding.weight.detach().clone())
    assert torch.equal(*initial)

    model, history = train_tiny(task, build_model=build_embedding_model, **params)

    assert isinstance(model.network, EmbeddingNet)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert not torch.equal(model.network.embedding.weight, initial[0]), "the embedding trained"

    # The served graph (preprocessing + this network) answers raw rows like predict_frame,
    # an unseen colour and a missing number among them.
    rows = test_set.copy()
    rows.loc[0, "colour"] = "violet"
    rows.loc[1, "x2"] = np.nan
    path = tmp_path / "model.onnx"
    onnx.save(compose_served_graph(model, rows), str(path))
    assert verify_onnx(path, model, rows) < 1e-4


def test_large_splits_are_encoded_chunk_by_chunk_and_train_alike():
    """A split above chunk_rows keeps its raw rows; each read encodes one chunk at a time."""
    params = data_params("classification")
    train_set, validation_set, _ = split(make_classification_frame())
    state = fit_preprocessor(train_set, params)
    whole = to_training_data(train_set, state)
    chunked = to_training_data(train_set, state, chunk_rows=30)
    assert whole.x is not None and chunked.x is None and len(chunked) == len(train_set)
    parts = list(chunked.chunks(torch.Generator().manual_seed(0)))
    assert sorted(len(x) for x, _ in parts) == [20, 30, 30]
    x = torch.cat([x for x, _ in chunked.chunks()])
    torch.testing.assert_close(x, whole.x)
    # An unseen label in any chunk fails before training starts.
    broken = train_set.copy()
    broken.loc[len(broken) - 1, "target"] = "maybe"
    with pytest.raises(ValueError, match="were not seen"):
        to_training_data(broken, state, chunk_rows=30)


def test_training_on_chunked_splits_learns(monkeypatch):
    from kedro_mlops_kit.training import fit as fit_module

    monkeypatch.setattr(fit_module, "CHUNK_ROWS", 25)
    model, history = train_tiny(epochs=30, patience=100)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_metric"] > 0.8
