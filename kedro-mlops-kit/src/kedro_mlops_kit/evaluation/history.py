"""The champion's lineage: each promotion that led to it, read back from the registry.

``kedro production history`` (``make history``) starts at the version aliased ``champion`` and
follows each run's ``previous_champion`` tag back, printing per version: when it was
registered, why it was trained (``trigger``), why it was promoted, who or what registered it,
the code (git commit) and data (DVC md5 of the raw table) it was trained on, and its test
value of the primary metric. A version rolled back from is marked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from kedro_mlops_kit.evaluation.registry import METRIC_TAG_PREFIX
from kedro_mlops_kit.registry import champion_version

__all__ = ["champion_lineage", "lineage_table"]

#: The serving rollback's tag on the version it replaced (kedro_mlops_kit.serving.rollback).
_ROLLED_BACK_FROM = "serving.rolled_back_from"


def champion_lineage(
    model_name: str, metric: str, client: MlflowClient | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Return the champion, then the champion it replaced, and so on (newest first).

    Raises:
        AliasNotFoundError: No registered model, or no champion (the message says what to do).
        MlflowException: The registry cannot be read.
    """
    client = client or MlflowClient()
    version = champion_version(model_name, client)
    rows, seen = [], set()
    while version is not None and str(version.version) not in seen and len(rows) < limit:
        seen.add(str(version.version))
        tags = client.get_run(version.run_id).data.tags if version.run_id else {}
        value = version.tags.get(f"{METRIC_TAG_PREFIX}{metric}")
        rows.append(
            {
                "version": str(version.version),
                "registered": datetime.fromtimestamp(
                    version.creation_timestamp / 1000, tz=UTC
                ).strftime("%Y-%m-%d %H:%M"),
                "trigger": tags.get("trigger", "unknown (before v0.5.0)"),
                "promotion": tags.get("promotion_reason", "unknown"),
                "promoted_by": tags.get("promoted_by", "unknown"),
                "commit": tags.get("git_commit", "unknown")[:10],
                "data_md5": tags.get("data_md5", "unknown")[:10],
                metric: None if value is None else float(value),
                "rolled_back_from": version.tags.get(_ROLLED_BACK_FROM, ""),
            }
        )
        previous = tags.get("previous_champion", "none")
        try:
            version = client.get_model_version(model_name, previous) if previous != "none" else None
        except MlflowException:
            version = None  # deleted from the registry: the lineage ends here
    return rows


def lineage_table(rows: list[dict[str, Any]], metric: str) -> str:
    """Render :func:`champion_lineage` as a markdown table."""
    columns = ["version", "registered", metric, "trigger", "promotion", "promoted_by", "commit"]
    columns += ["data_md5", "rolled_back_from"]

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value if value not in (None, "") else "-").replace("|", "/")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
