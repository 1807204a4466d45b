"""Send rows from a CSV/Parquet file to the served model and print the predictions.

Columns are matched by name, in the feature order the server reports (or ``--feature-columns``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .client import TritonClient
from .errors import ServingError
from .names import DEFAULT_MODEL_NAME
from .tabular_io import feature_matrix, read_table


def predictions_frame(
    predictions: np.ndarray, class_labels: tuple[str, ...] | None
) -> pd.DataFrame:
    """Name prediction columns by class label (classification) or ``prediction`` (regression)."""
    if class_labels and len(class_labels) == predictions.shape[1]:
        columns = [f"p_{label}" for label in class_labels]
    elif predictions.shape[1] == 1:
        columns = ["prediction"]
    else:
        columns = [f"output_{i}" for i in range(predictions.shape[1])]
    frame = pd.DataFrame(predictions, columns=columns)
    if class_labels and len(class_labels) == predictions.shape[1]:
        frame["label"] = np.asarray(class_labels)[predictions.argmax(axis=1)]
    return frame


def default_url(protocol: str) -> str:
    """Loopback URL from TRITON_HTTP_PORT / TRITON_GRPC_PORT (what local_triton binds)."""
    if protocol == "grpc":
        return f"127.0.0.1:{os.environ.get('TRITON_GRPC_PORT', '8001')}"
    return f"127.0.0.1:{os.environ.get('TRITON_HTTP_PORT', '8000')}"


def build_parser() -> argparse.ArgumentParser:
    """CLI arguments of the predict command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="CSV or Parquet file of rows")
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http")
    parser.add_argument("--url", help="host:port (default: 127.0.0.1 and TRITON_*_PORT)")
    parser.add_argument(
        "--feature-columns",
        help="comma-separated feature order; default: the order in the server's model config",
    )
    parser.add_argument("--output", type=Path, help="write predictions as CSV instead of stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the predict CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    url = args.url or default_url(args.protocol)
    try:
        with TritonClient(url, args.protocol, args.model_name) as client:
            info = client.info()
            columns = args.feature_columns.split(",") if args.feature_columns else None
            columns = columns or list(info.feature_columns)
            if not columns:
                raise ServingError("server config lists no feature_columns; pass --feature-columns")
            rows = feature_matrix(read_table(args.input), columns)
            frame = predictions_frame(client.predict(rows), info.class_labels)
    except ServingError as exc:
        print(f"predict failed: {exc}", file=sys.stderr)
        return 1
    if args.output:
        frame.to_csv(args.output, index=False)
    else:
        print(frame.to_csv(index=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
