"""Kedro hooks of the project: data-parallel runs write their results once."""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.pipeline import Pipeline

from kedro_mlops_kit import ranks

# The pipelines written to run on several processes at once; the others register models and
# write reports, which must happen exactly once.
DATA_PARALLEL_PIPELINES = {"training"}


class DistributedTrainingError(RuntimeError):
    """A pipeline other than training was started on several processes."""


class RankZeroWrites:
    """Under ``torchrun``, let only rank 0 save pipeline outputs.

    The other processes keep their (identical) outputs in memory, so files and DVC outputs are
    written once and never by two processes at the same time.
    """

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        """Refuse non-training pipelines on several processes; silence ranks above 0."""
        if not ranks.is_distributed():
            return
        names = set(run_params.get("pipeline_names") or ["__default__"])
        if not names <= DATA_PARALLEL_PIPELINES:
            raise DistributedTrainingError(
                f"Only {sorted(DATA_PARALLEL_PIPELINES)} can run on several processes, not "
                f"{sorted(names)}: run the other pipelines without torchrun (e.g. `make evaluate`)."
            )
        if ranks.is_rank_zero():
            return
        for name in pipeline.all_outputs():
            catalog[name] = MemoryDataset()
