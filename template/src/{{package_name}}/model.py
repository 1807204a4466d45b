"""The model architecture: the one place to change the network.

The contract ``build_model`` honours (training, data parallelism, ONNX export, Triton serving
and evaluation all rely on it, for any module that keeps it):

- it receives the fitted preprocessing (``kedro_mlops_kit.preprocessor.Preprocessor``:
  ``n_inputs`` and ``feature_names``, the columns of the preprocessed matrix; ``n_outputs``;
  the raw ``feature_columns`` and their ``kinds``; ``categories``) and the ``training``
  parameters;
- it returns a ``torch.nn.Module`` mapping the preprocessed float32 matrix
  ``[batch, preprocessor.n_inputs]`` to raw scores ``[batch, preprocessor.n_outputs]``: logits
  for classification, the standardised target for regression. The preprocessing in front
  (imputation, missing indicators, scaling, one-hot categories, date parts) and the softmax /
  un-scaling head behind are added by the plugin, in training and in the served ONNX graph;
- it can be exported by ``torch.onnx.export`` (plain tensor operations) and pickled (classes
  defined at module level in this file; only this file travels with the registered model, so
  a layer from another library, e.g. torchvision, must be in ``evaluation.pip_requirements``).
"""

from __future__ import annotations

from typing import Any

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import build_mlp
from torch import nn


def build_model(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """Return the network: a ReLU multilayer perceptron on the preprocessed inputs.

    Args:
        preprocessor: The preprocessing fitted on the training split.
        params: The ``training`` parameters (``hidden_sizes``, ``dropout`` are read here).

    Returns:
        A module mapping ``[batch, n_inputs]`` inputs to ``[batch, n_outputs]`` scores.
    """
    return build_mlp(
        preprocessor.n_inputs, params["hidden_sizes"], preprocessor.n_outputs, params["dropout"]
    )
