"""A threaded closed-loop load generator: N clients, a warm-up, then a fixed measured duration.

A level (target, batch size, concurrency) runs for a fixed time rather than a fixed number of
requests, so a fast and a slow server are measured over the same window, and it is repeated a
few times (:func:`summarise` pools the repetitions) so the report can show the spread between
runs rather than one lucky or unlucky figure.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

# A sender factory is called once per client thread (clients are not shared across threads);
# the sender it returns performs one request and raises on failure.
Sender = Callable[[], None]
SenderFactory = Callable[[], Sender]
DEFAULT_DURATION_S = 5.0
DEFAULT_WARMUP_S = 1.0
DEFAULT_REPEATS = 3


@dataclass(frozen=True)
class RunResult:
    """One measured run of a level: counts, wall time and latency percentiles."""

    target: str
    batch_size: int
    concurrency: int
    repeat: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    latencies_ms: tuple[float, ...] = field(default=(), repr=False, compare=False)

    @property
    def requests_per_s(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        """Successful rows (inferences) per second."""
        return self.requests_per_s * self.batch_size


@dataclass(frozen=True)
class LevelResult:
    """The repetitions of one (target, batch size, concurrency) level, summarised.

    Throughput is given per repetition (``rows_per_s``) with its mean, min, max and standard
    deviation; latency percentiles pool every request of every repetition.
    """

    target: str
    batch_size: int
    concurrency: int
    repeats: int
    requests: int
    errors: int
    rows_per_s: tuple[float, ...]
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rows_per_s_mean(self) -> float:
        """Mean throughput over the repetitions (rows per second)."""
        return statistics.fmean(self.rows_per_s) if self.rows_per_s else 0.0

    @property
    def rows_per_s_min(self) -> float:
        """Lowest throughput of a repetition."""
        return min(self.rows_per_s, default=0.0)

    @property
    def rows_per_s_max(self) -> float:
        """Highest throughput of a repetition."""
        return max(self.rows_per_s, default=0.0)

    @property
    def rows_per_s_stdev(self) -> float:
        """Sample standard deviation of the throughput (0 for a single repetition)."""
        return statistics.stdev(self.rows_per_s) if len(self.rows_per_s) > 1 else 0.0

    @property
    def requests_per_s_mean(self) -> float:
        """Mean successful requests per second over the repetitions."""
        return self.rows_per_s_mean / self.batch_size


def run_level(
    target: str,
    make_sender: SenderFactory,
    *,
    batch_size: int,
    concurrency: int,
    duration_s: float = DEFAULT_DURATION_S,
    warmup_s: float = DEFAULT_WARMUP_S,
    repeat: int = 0,
) -> RunResult:
    """Run ``concurrency`` closed-loop clients for ``duration_s`` seconds after a warm-up.

    Each client opens its own connection and sends requests for ``warmup_s`` seconds (at least
    one), unmeasured; then all clients start together and send back-to-back until the measured
    window closes. A request still in flight at the deadline completes and counts: the wall
    time runs until the last client returns, so throughput stays exact.

    Raises:
        RuntimeError: A client could not be set up or failed during the warm-up (e.g. nothing
            listens): the level would measure nothing.
    """
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}
    setup_failures: list[BaseException] = []
    window: dict[str, float] = {}

    def open_window() -> None:
        # Runs once, when the last client has warmed up, before any of them is released.
        window["began"] = time.perf_counter()
        window["deadline"] = window["began"] + duration_s

    start_barrier = threading.Barrier(concurrency + 1, action=open_window)

    def worker() -> None:
        try:
            send = make_sender()
            warm_until = time.perf_counter() + warmup_s
            send()
            while time.perf_counter() < warm_until:
                send()
        except BaseException as exc:  # reported after the run; the barrier must still be met
            setup_failures.append(exc)
            start_barrier.wait()
            return
        start_barrier.wait()
        if setup_failures:
            return
        deadline = window["deadline"]
        local: list[float] = []
        requests = errors = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            requests += 1
            try:
                send()
            except Exception:
                errors += 1
                continue
            local.append(time.perf_counter() - began)
        with lock:
            latencies.extend(local)
            counts["requests"] += requests
            counts["errors"] += errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - window["began"]
    if setup_failures:
        raise RuntimeError(f"{target}: client setup failed: {setup_failures[0]!r}")
    latencies_ms = np.asarray(latencies) * 1000
    p50, p95, p99 = np.percentile(latencies_ms, [50, 95, 99]) if latencies else (np.nan,) * 3
    return RunResult(
        target=target,
        batch_size=batch_size,
        concurrency=concurrency,
        repeat=repeat,
        requests=counts["requests"],
        errors=counts["errors"],
        seconds=seconds,
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        latencies_ms=tuple(latencies_ms.tolist()),
    )


def summarise(runs: Sequence[RunResult]) -> list[LevelResult]:
    """Group runs by (target, batch size, concurrency), in first-seen order, and summarise."""
    groups: dict[tuple[str, int, int], list[RunResult]] = {}
    for run in runs:
        groups.setdefault((run.target, run.batch_size, run.concurrency), []).append(run)
    levels = []
    for (target, batch_size, concurrency), group in groups.items():
        pooled = np.concatenate([np.asarray(r.latencies_ms, dtype=float) for r in group])
        p50, p95, p99 = np.percentile(pooled, [50, 95, 99]) if pooled.size else (np.nan,) * 3
        levels.append(
            LevelResult(
                target=target,
                batch_size=batch_size,
                concurrency=concurrency,
                repeats=len(group),
                requests=sum(r.requests for r in group),
                errors=sum(r.errors for r in group),
                rows_per_s=tuple(r.rows_per_s for r in group),
                p50_ms=float(p50),
                p95_ms=float(p95),
                p99_ms=float(p99),
            )
        )
    return levels
