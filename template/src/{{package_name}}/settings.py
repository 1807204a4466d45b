"""Kedro project settings.

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for every option.
"""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # OmegaConfigLoader only resolves ${oc.env:...} in credentials by default; mlflow.yml needs it
    # so MLFLOW_TRACKING_URI (CI, remote server) overrides the local sqlite default.
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
}
