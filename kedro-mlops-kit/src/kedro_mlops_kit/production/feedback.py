"""Record ground truth that arrives after scoring, joined to the predictions it judges.

``kedro production feedback --labels PATH`` (``make feedback LABELS=PATH``): a CSV or Parquet
file with a ``row_id`` column and the target column (named as in the schema), partial and late
as it comes. Its rows are matched to scored records by id; the matched rows (inputs, answer,
model version, true target) become one file of the labelled production dataset. Ids that were
never scored, and rows without a label, are counted and reported, not fatal; a file whose ids
match nothing, with repeated ids, or with targets of the wrong type records nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kedro_mlops_kit.features import _category_text
from kedro_mlops_kit.production.store import (
    ProductionInputError,
    ProductionStore,
    content_id,
)
from kedro_mlops_kit.serving.tabular_io import read_table
from kedro_mlops_kit.tasks import CLASSIFICATION

__all__ = ["record_feedback"]

ID_COLUMN = "row_id"


def _rows(index: pd.Index) -> list[int]:
    return [int(i) for i in index[:5]]


def _checked_targets(labels: pd.Series, task: str, classes: list[str]) -> pd.Series:
    """Return targets as the model's classes (text) or numbers; name rows that are neither."""
    if task == CLASSIFICATION:
        # Class labels are compared as text: a CSV reads "1" as 1, a model may name it "1".
        # The same normalisation as category values (features._category_text).
        text = labels.map(_category_text)
        unknown = ~text.isin(classes)
        if unknown.any():
            values = sorted(set(text[unknown]))[:5]
            raise ProductionInputError(
                f"Target values {values} (rows {_rows(text.index[unknown])}) are not classes of "
                f"the model ({classes}). Fix the labels file; a new class needs a retrained "
                "model before it can be monitored."
            )
        return text
    numbers = pd.to_numeric(labels, errors="coerce")
    bad = numbers.isna()
    if bad.any():
        raise ProductionInputError(
            f"Target values {labels[bad].astype(str).tolist()[:5]} "
            f"(rows {_rows(labels.index[bad])}) are not numbers; a regression target must be "
            "numeric."
        )
    return numbers.astype(float)


def record_feedback(
    labels_path: Path,
    *,
    target: str,
    task: str,
    store: ProductionStore | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Join the labels at ``labels_path`` to the scored records and record the matches.

    Returns:
        A summary: rows read, recorded, without a label, with an unknown id (a few of them),
        relabelled (labelled before; the newest label counts), and the file written.

    Raises:
        ProductionInputError: Missing columns, repeated ids, wrong target values, no match,
            or a file recorded before.
    """
    store = store or ProductionStore()
    labels = read_table(Path(labels_path))
    missing = [c for c in (ID_COLUMN, target) if c not in labels.columns]
    if missing:
        raise ProductionInputError(
            f"{labels_path} lacks column(s) {missing}: a labels file has a {ID_COLUMN!r} column "
            f"(the id `make score` recorded) and the target {target!r}."
        )
    feedback_id = content_id(Path(labels_path))
    if store.has_feedback(feedback_id):
        raise ProductionInputError(
            f"{labels_path} was recorded already ({store.labelled_dir}/{feedback_id}.parquet)."
        )
    labels = labels[[ID_COLUMN, target]].copy()
    labels[ID_COLUMN] = labels[ID_COLUMN].astype(str)
    repeated = labels[ID_COLUMN].duplicated(keep=False)
    if repeated.any():
        raise ProductionInputError(
            f"Ids {sorted(set(labels.loc[repeated, ID_COLUMN]))[:5]} appear more than once "
            f"(rows {_rows(labels.index[repeated])}); give each row one label."
        )
    unlabelled = labels[target].isna()
    labels = labels[~unlabelled]
    scored = store.scored()
    if scored.empty:
        raise ProductionInputError("Nothing was scored yet: run `make score BATCH=...` first.")
    known = labels[ID_COLUMN].isin(set(scored["row_id"]))
    unknown_ids = labels.loc[~known, ID_COLUMN].tolist()
    labels = labels[known]
    if labels.empty:
        raise ProductionInputError(
            f"None of the {len(unknown_ids)} labelled id(s) in {labels_path} were scored (e.g. "
            f"{unknown_ids[:5]}): check that the ids are the row_id values `make score` recorded."
        )
    classes = [c.removeprefix("p_") for c in scored.columns if c.startswith("p_")]
    labels[target] = _checked_targets(labels[target], task, classes)
    earlier = store.labelled()
    relabelled = (
        int(labels[ID_COLUMN].isin(set(earlier["row_id"])).sum()) if not earlier.empty else 0
    )
    inputs = store.inputs().drop(columns=[target], errors="ignore")
    answers = scored.drop_duplicates("row_id", keep="last")
    labelled = (
        labels.merge(answers, on=ID_COLUMN, how="left")
        .merge(inputs, on=ID_COLUMN, how="left", suffixes=("", "_input"))
        # Microseconds: two labels files recorded within a second still have an order.
        .assign(labelled_at=(now or datetime.now(UTC)).isoformat(timespec="microseconds"))
    )
    path = store.write_feedback(feedback_id, labelled)
    return {
        "labels": str(labels_path),
        "feedback_id": feedback_id,
        "rows_read": int(len(unlabelled)),
        "rows_recorded": int(len(labelled)),
        "rows_without_label": int(unlabelled.sum()),
        "unknown_ids": len(unknown_ids),
        "unknown_id_examples": unknown_ids[:5],
        "relabelled": relabelled,
        "records": str(path),
    }
