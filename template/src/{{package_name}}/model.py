"""The model architecture: the one place to change the network.

The contract ``build_model`` honours (training, data parallelism, ONNX export, Triton serving
and evaluation all rely on it, for any module that keeps it):

- it receives the fitted preprocessing (``kedro_mlops_kit.preprocessor.Preprocessor``: the
  feature columns in input order, numeric and categorical columns, their means, standard
  deviations and categories, ``n_outputs``) and the ``training`` parameters;
- it returns a ``torch.nn.Module`` mapping raw float32 features ``[batch, n_features]`` (columns in
  ``preprocessor.feature_columns`` order) to raw scores ``[batch, preprocessor.n_outputs]``:
  logits for classification, the standardised target for regression. The plugin adds the
  softmax / un-scaling head, the loss and the loop;
- it can be exported by ``torch.onnx.export`` (plain tensor operations) and pickled (classes
  defined at module level in this file; only this file travels with the registered model, so
  a layer from another library, e.g. torchvision, must be in ``evaluation.pip_requirements``).

Preprocessing with trainable parameters (embeddings of category codes, learned scaling) belongs
inside the module, so that it trains with the network and is exported with it.
"""

from __future__ import annotations

from typing import Any

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import FeatureTransform, build_mlp
from torch import nn


def build_model(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """Return the network: standardise and one-hot encode, then a ReLU multilayer perceptron.

    Args:
        preprocessor: The preprocessing fitted on the training split.
        params: The ``training`` parameters (``hidden_sizes``, ``dropout`` are read here).

    Returns:
        A module mapping ``[batch, n_features]`` raw features to ``[batch, n_outputs]`` scores.
    """
    transform = FeatureTransform(preprocessor)
    network = build_mlp(
        transform.n_outputs, params["hidden_sizes"], preprocessor.n_outputs, params["dropout"]
    )
    return nn.Sequential(transform, network)
