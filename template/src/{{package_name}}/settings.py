"""Kedro project settings.

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for every option.
"""

from importlib import metadata

from kedro.config import OmegaConfigLoader
from kedro_mlops_kit import ranks
from kedro_mlops_kit.hooks import RankZeroWrites
from omegaconf.resolvers import oc

# Under torchrun (`make train NPROC=2`) only rank 0 writes the pipeline's outputs and talks to
# MLflow: the other processes do not even load kedro-mlflow, so they never open the tracking
# store (several processes creating a fresh sqlite store at once would race).
HOOKS = (RankZeroWrites(),)
# Kedro matches plugins by their distribution's metadata name, which is not always the name
# they are installed by ("kedro-mlflow" reports "kedro_mlflow"), so ask the installed one.
_KEDRO_MLFLOW = metadata.distribution("kedro-mlflow").metadata["Name"]
DISABLE_HOOKS_FOR_PLUGINS = () if ranks.is_rank_zero() else (_KEDRO_MLFLOW,)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # OmegaConfigLoader only resolves ${oc.env:...} in credentials by default; mlflow.yml needs it
    # so MLFLOW_TRACKING_URI (CI, remote server) overrides the local sqlite default.
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
}
