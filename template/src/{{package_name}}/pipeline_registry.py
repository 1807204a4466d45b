"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Not part of `kedro run`: the drift job checks production batches on its own schedule, against
# the champion that an earlier run registered (`kedro drift check`, `make drift`).
ON_DEMAND_PIPELINES = frozenset({"drift"})


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline found under ``pipelines/``; ``__default__`` is the lifecycle.

    ``__default__`` is the union of the lifecycle pipelines (data to registered model and its
    drift detector); the ``drift`` job runs only when asked for by name.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    lifecycle = [p for name, p in pipelines.items() if name not in ON_DEMAND_PIPELINES]
    pipelines["__default__"] = sum(lifecycle, Pipeline([]))
    return pipelines
