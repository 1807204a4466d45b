"""Score a production batch on the running server and record every answer.

``kedro production score --batch PATH`` (``make score BATCH=PATH``): the batch's rows are
checked against the served version's schema, sent to Triton, and recorded in the
:class:`~kedro_mlops_kit.production.store.ProductionStore`: the inputs as sent, and per row a
stable id, the time, the model version that answered (as Triton reports it) and the answer.
A batch that fails the schema, or was scored before, records nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kedro_mlops_kit.production.store import (
    ProductionInputError,
    ProductionStore,
    content_id,
)
from kedro_mlops_kit.serving.client import Protocol, TritonClient
from kedro_mlops_kit.serving.predict import predictions_frame, served_contract
from kedro_mlops_kit.serving.tabular_io import read_table

__all__ = ["row_ids", "score_batch"]


def row_ids(frame: pd.DataFrame, batch_id: str, id_column: str | None) -> pd.Series:
    """Each row's stable id: the ``id_column`` value, or ``<batch_id>-<row number>``.

    Raises:
        ProductionInputError: The id column is absent, has missing or repeated values.
    """
    if not id_column:
        return pd.Series([f"{batch_id}-{i:07d}" for i in range(len(frame))], dtype=object)
    if id_column not in frame.columns:
        raise ProductionInputError(
            f"The batch has no id column {id_column!r} (production.id_column); its columns are "
            f"{list(frame.columns)}. Add it, or set production.id_column: null to number rows."
        )
    ids = frame[id_column]
    missing = ids.index[ids.isna()].tolist()
    repeated = ids.index[ids.duplicated(keep=False) & ids.notna()].tolist()
    if missing or repeated:
        problems = []
        if missing:
            problems.append(f"missing in rows {missing[:5]}")
        if repeated:
            problems.append(f"repeated in rows {repeated[:5]}")
        raise ProductionInputError(
            f"Id column {id_column!r} must identify each row once: {'; '.join(problems)}. Fix "
            "the batch (ground truth is matched to predictions by this id)."
        )
    return ids.astype(str).reset_index(drop=True)


def score_batch(
    batch: Path,
    *,
    model_name: str,
    url: str,
    protocol: Protocol = "http",
    repository: Path,
    store: ProductionStore | None = None,
    id_column: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Score the rows of ``batch`` on the server at ``url`` and record them; return a summary.

    Raises:
        ProductionInputError: The batch is empty, was scored before, or its ids clash.
        ServingError: The server is down or the rows fail the served schema (nothing written).
    """
    store = store or ProductionStore()
    frame = read_table(Path(batch))
    if frame.empty:
        raise ProductionInputError(f"{batch} has no rows: nothing to score.")
    batch_id = content_id(Path(batch))
    if store.has_batch(batch_id):
        raise ProductionInputError(
            f"{batch} was scored already (batch {batch_id}, {store.scored_dir}): scoring it "
            "again would record its rows twice. Send new rows in a new file."
        )
    ids = row_ids(frame, batch_id, id_column)
    if id_column:
        seen = store.scored()
        clash = sorted(set(ids) & set(seen["row_id"])) if not seen.empty else []
        if clash:
            raise ProductionInputError(
                f"Ids {clash[:5]} ({len(clash)} in all) of {id_column!r} were scored in an "
                "earlier batch; each production row needs an id of its own."
            )
    with TritonClient(url, protocol, model_name) as client:
        client.contract = served_contract(client, repository)
        client.info(refresh=True)
        outputs, versions = client.predict_with_versions(frame)
        labels = client.info().class_labels
    scored_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    answers = predictions_frame(outputs, labels)
    record = pd.DataFrame(
        {
            "row_id": ids,
            "batch_id": batch_id,
            "row": range(len(frame)),
            "scored_at": scored_at,
            "model_name": model_name,
            "model_version": versions.astype(str),
        }
    )
    record = pd.concat([record, answers], axis=1)
    inputs = frame.reset_index(drop=True).assign(row_id=ids)
    store.write_batch(batch_id, inputs, record)
    return {
        "batch": str(batch),
        "batch_id": batch_id,
        "rows": len(frame),
        "model_versions": sorted(set(record["model_version"])),
        "scored_at": scored_at,
        "records": str(store.scored_dir / f"{batch_id}.parquet"),
    }
