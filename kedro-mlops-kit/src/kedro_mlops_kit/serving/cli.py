"""``kedro serving ...``: export, serve, predict, bench and rollback, as Kedro project commands.

- ``kedro serving export --holdout PATH``: export the registry's champion to ONNX into the Triton
  model repository, once ONNX Runtime reproduces PyTorch on the held-out rows (``make export``).
- ``kedro serving serve``: run a real tritonserver in the foreground on 127.0.0.1
  (``make serve``); Ctrl-C, SIGTERM and SIGHUP all stop it.
- ``kedro serving predict --input PATH``: send rows to the running server (``make predict``).
- ``kedro serving bench``: Triton (HTTP, gRPC) against ``mlflow models serve`` (``make bench``).
- ``kedro serving rollback --holdout PATH``: move the champion back to the previous version and
  serve it (``make rollback``).

``--model-name`` defaults to the project's ``evaluation.model_name`` parameter (the Kedro project
in the current directory). MLflow is reached through ``--tracking-uri``, else
``MLFLOW_TRACKING_URI``.

Exit codes: 0 success; 1 the command failed (``Error: export failed: <what and how to fix>``);
2 wrong usage. ``serve`` exits with tritonserver's own code, or 130 / 143 / 129 after Ctrl-C /
SIGTERM / SIGHUP, each time after stopping the server.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import click

# Only light imports up here: torch, mlflow and tritonclient take seconds that --help and a
# mistyped option should not cost. Each command imports what it needs.
from kedro_mlops_kit.serving.errors import ServingError
from kedro_mlops_kit.serving.names import (
    CHAMPION,
    DEFAULT_OUTPUT_DIR,
    DEFAULT_REPOSITORY,
    DEFAULT_WORK_DIR,
)

__all__ = ["serving"]

_PATH = click.Path(path_type=Path)


def _model_name(value: str | None) -> str:
    if value:
        return value
    from kedro_mlops_kit.project import default_model_name

    try:
        return default_model_name()
    except click.ClickException as exc:
        if "--model-name" in exc.message:
            raise
        raise click.ClickException(f"{exc.message} Or name the model: --model-name NAME.") from exc


def _use_tracking_uri(uri: str | None) -> None:
    if uri:
        import mlflow

        mlflow.set_tracking_uri(uri)


def _failed(action: str, error: Exception) -> click.ClickException:
    return click.ClickException(f"{action} failed: {error}")


def _positive_ints(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """Accept ``--opt 1 --opt 4`` as well as ``--opt 1,4``."""
    numbers = []
    for value in values:
        for part in value.replace(",", " ").split():
            try:
                number = int(part)
            except ValueError:
                number = 0
            if number <= 0:
                raise click.BadParameter(f"{part!r} is not a positive integer", param=param)
            numbers.append(number)
    return tuple(numbers)


model_name_option = click.option(
    "--model-name",
    help="Registered model (and Triton model folder) name. [default: the project's "
    "evaluation.model_name parameter]",
)
alias_option = click.option(
    "--alias", default=CHAMPION, show_default=True, help="Registry alias to export."
)
holdout_option = click.option(
    "--holdout",
    type=_PATH,
    required=True,
    help="CSV/Parquet of held-out rows (named feature columns) that verify the ONNX export.",
)
repository_option = click.option(
    "--model-repository",
    type=_PATH,
    default=DEFAULT_REPOSITORY,
    show_default=True,
    help="Triton model repository.",
)
tracking_uri_option = click.option(
    "--tracking-uri", help="MLflow tracking URI. [default: MLFLOW_TRACKING_URI]"
)
work_dir_option = click.option(
    "--work-dir",
    type=_PATH,
    default=DEFAULT_WORK_DIR,
    show_default=True,
    help="Where the tritonserver runtime (binary, backends, logs) is prepared.",
)


@click.group(name="serving")
def serving() -> None:
    """Serve the registered model on Triton: export, serve, predict, bench, rollback."""


@serving.command(name="export")
@model_name_option
@alias_option
@holdout_option
@repository_option
@tracking_uri_option
def export(
    model_name: str | None,
    alias: str,
    holdout: Path,
    model_repository: Path,
    tracking_uri: str | None,
) -> None:
    """Export the aliased model version to ONNX into the Triton model repository.

    Nothing is written unless ONNX Runtime reproduces the PyTorch outputs on the held-out rows.
    Prints a JSON summary. Existing Triton configs are checked, never rewritten.
    """
    name = _model_name(model_name)
    _use_tracking_uri(tracking_uri)
    from kedro_mlops_kit.serving.export import export_alias

    try:
        summary = export_alias(name, holdout, model_repository, alias)
    except ServingError as exc:
        raise _failed("export", exc) from exc
    click.echo(json.dumps(asdict(summary), indent=2))


@serving.command(name="serve")
@repository_option
@click.option(
    "--model-config-name",
    default="auto",
    show_default=True,
    help="Use configs/<name>.pbtxt; 'auto' = 'cpu' on hosts without a GPU; '' = config.pbtxt.",
)
@work_dir_option
@click.option(
    "--poll-seconds",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Reload the repository this often (export and rollback apply live); 0 = never.",
)
@click.option(
    "--startup-timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds the models may take to become ready before the log is shown.",
)
@click.option(
    "--http-port",
    type=int,
    envvar="TRITON_HTTP_PORT",
    show_envvar=True,
    default=8000,
    show_default=True,
)
@click.option(
    "--grpc-port",
    type=int,
    envvar="TRITON_GRPC_PORT",
    show_envvar=True,
    default=8001,
    show_default=True,
)
@click.option(
    "--metrics-port",
    type=int,
    envvar="TRITON_METRICS_PORT",
    show_envvar=True,
    default=8002,
    show_default=True,
)
def serve(
    model_repository: Path,
    model_config_name: str,
    work_dir: Path,
    poll_seconds: int,
    startup_timeout: float,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
) -> None:
    """Run tritonserver on the model repository in the foreground, on 127.0.0.1.

    Ctrl-C, SIGTERM and SIGHUP stop the server before the command exits.
    """
    from kedro_mlops_kit.serving.local_triton import LocalTriton, stop_on_signals

    server = LocalTriton(
        model_repository,
        http_port=http_port,
        grpc_port=grpc_port,
        metrics_port=metrics_port,
        model_config_name=model_config_name or None,
        work_dir=work_dir,
        poll_seconds=poll_seconds,
        startup_timeout=startup_timeout,
    )

    stopping = threading.Event()

    def report_ready() -> None:
        try:
            seconds = server.wait_until_ready()
        except ServingError as exc:
            if not stopping.is_set():
                click.echo(f"[serve] {exc}", err=True)
            return
        click.echo(
            f"[serve] models {server.models} ready in {seconds:.2f}s "
            f"(http {server.http_url}, grpc {server.grpc_url}, metrics {server.metrics_url})"
        )

    with stop_on_signals():
        try:
            try:
                # The server writes to this console; a captured stdout (tests) gets a log file.
                stdout = sys.stdout.fileno()
            except (AttributeError, OSError, ValueError):
                stdout = None
            server.start(stdout=stdout)
            threading.Thread(target=report_ready, daemon=True).start()
            code = server.wait()
        except ServingError as exc:
            raise _failed("serve", exc) from exc
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP (stop_on_signals)
            code = getattr(exc, "exit_code", 130)
            click.echo(f"[serve] {exc or 'SIGINT'}: stopping tritonserver", err=True)
        finally:
            stopping.set()
            server.stop()
    sys.exit(code)


@serving.command(name="predict")
@click.option("--input", "input_path", type=_PATH, required=True, help="CSV or Parquet rows.")
@model_name_option
@click.option("--protocol", type=click.Choice(["http", "grpc"]), default="http", show_default=True)
@click.option("--url", help="host:port of the server. [default: 127.0.0.1 and TRITON_*_PORT]")
@click.option(
    "--model-repository",
    type=_PATH,
    default=DEFAULT_REPOSITORY,
    show_default=True,
    help="Repository the server serves from; gives the schema rows are checked against and "
    "the class labels.",
)
@click.option("--output", type=_PATH, help="Write predictions as CSV here instead of stdout.")
def predict(
    input_path: Path,
    model_name: str | None,
    protocol: str,
    url: str | None,
    model_repository: Path,
    output: Path | None,
) -> None:
    """Send the raw rows of a CSV/Parquet file to the served model and print the predictions.

    Columns are matched by name; text, dates and missing values are sent as they come.
    Classification prints one ``p_<label>`` column per class and the predicted ``label``;
    regression prints ``prediction``.
    """
    name = _model_name(model_name)
    from kedro_mlops_kit.serving.predict import default_url, predict_frame
    from kedro_mlops_kit.serving.tabular_io import read_table

    try:
        frame = predict_frame(
            read_table(input_path),
            model_name=name,
            url=url or default_url(protocol),
            protocol=protocol,
            repository=model_repository if model_repository.is_dir() else None,
        )
    except ServingError as exc:
        raise _failed("predict", exc) from exc
    if output:
        frame.to_csv(output, index=False)
    else:
        click.echo(frame.to_csv(index=False), nl=False)


@serving.command(name="bench")
@model_name_option
@repository_option
@click.option(
    "--concurrency",
    multiple=True,
    default=["1", "4", "8"],
    show_default=True,
    callback=_positive_ints,
    help="Concurrent clients per level (repeat, or comma-separate: 1,4,8). The report gives "
    "the Triton/MLflow ratio at 8.",
)
@click.option(
    "--batch-sizes",
    multiple=True,
    default=["1", "32"],
    show_default=True,
    callback=_positive_ints,
    help="Rows per request (repeat, or comma-separate: 1,32).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Measured seconds per level and repetition.",
)
@click.option(
    "--warmup",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Unmeasured seconds each client sends before a level is measured.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Repetitions of every level (interleaved across targets); the report gives the spread.",
)
@click.option("--skip-mlflow", is_flag=True, help="Benchmark Triton only.")
@click.option("--mlflow-workers", type=click.IntRange(min=1), default=1, show_default=True)
@work_dir_option
@click.option(
    "--output-dir",
    type=_PATH,
    default=DEFAULT_OUTPUT_DIR,
    show_default=True,
    help="Where serving_benchmark.md and serving_benchmark.png go.",
)
def bench(
    model_name: str | None,
    model_repository: Path,
    concurrency: tuple[int, ...],
    batch_sizes: tuple[int, ...],
    duration: float,
    warmup: float,
    repeats: int,
    skip_mlflow: bool,
    mlflow_workers: int,
    work_dir: Path,
    output_dir: Path,
) -> None:
    """Benchmark Triton (HTTP, gRPC) against `mlflow models serve` on the same ONNX graph.

    Both serve the exported model.onnx of the version Triton serves (no registry needed).
    Each level runs DURATION seconds after a warm-up, REPEATS times. Prints one JSON line per
    measured run and writes a markdown report and a plot. SIGTERM and SIGHUP stop both
    servers, as Ctrl-C does.
    """
    name = _model_name(model_name)
    from kedro_mlops_kit.serving.bench import run_benchmark, run_json, write_report
    from kedro_mlops_kit.serving.local_triton import stop_on_signals

    try:
        with stop_on_signals():  # the servers are context managers: signals unwind them
            results, notes = run_benchmark(
                model_name=name,
                repository=model_repository,
                concurrency_levels=concurrency,
                batch_sizes=batch_sizes,
                duration_s=duration,
                warmup_s=warmup,
                repeats=repeats,
                include_mlflow=not skip_mlflow,
                mlflow_workers=mlflow_workers,
                work_dir=work_dir,
                on_run=lambda run: click.echo(run_json(run)),
            )
    except ServingError as exc:
        raise _failed("benchmark", exc) from exc
    except KeyboardInterrupt as exc:
        click.echo(f"[bench] {exc or 'SIGINT'}: servers stopped", err=True)
        sys.exit(getattr(exc, "exit_code", 130))
    report, figure = write_report(results, notes, output_dir)
    click.echo(f"wrote {report} and {figure}")


@serving.command(name="rollback")
@model_name_option
@click.option("--alias", default=CHAMPION, show_default=True, help="Registry alias to move back.")
@click.option(
    "--holdout",
    type=_PATH,
    required=True,
    help="CSV/Parquet rows (named feature columns) that verify the re-export.",
)
@repository_option
@tracking_uri_option
def rollback(
    model_name: str | None,
    alias: str,
    holdout: Path,
    model_repository: Path,
    tracking_uri: str | None,
) -> None:
    """Point the alias at the previous registered version and make Triton serve it.

    Re-exports and verifies the previous version first; prints a JSON summary.
    """
    name = _model_name(model_name)
    _use_tracking_uri(tracking_uri)
    from kedro_mlops_kit.serving.rollback import rollback as roll_back
    from kedro_mlops_kit.serving.tabular_io import read_table

    try:
        summary = roll_back(name, read_table(holdout), model_repository, alias)
    except ServingError as exc:
        raise _failed("rollback", exc) from exc
    click.echo(json.dumps(asdict(summary), indent=2))
