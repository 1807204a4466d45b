"""A bounded, threaded closed-loop load generator: N clients, a fixed number of requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# A sender factory is called once per client thread (clients are not shared across threads);
# the sender it returns performs one request and raises on failure.
Sender = Callable[[], None]
SenderFactory = Callable[[], Sender]
WARMUP_REQUESTS_PER_CLIENT = 5


@dataclass(frozen=True)
class LevelResult:
    """Throughput and latency percentiles of one (target, batch, concurrency) level."""

    target: str
    batch_size: int
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def requests_per_s(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        """Successful rows (predictions) per second."""
        return self.requests_per_s * self.batch_size


def run_level(
    target: str,
    make_sender: SenderFactory,
    *,
    batch_size: int,
    concurrency: int,
    total_requests: int,
) -> LevelResult:
    """Run ``total_requests`` requests spread over ``concurrency`` threads (closed loop).

    Each thread warms up its own connection first, then all threads start together, so
    connection setup is not part of the measured latency.
    """
    remaining = [total_requests]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    start_barrier = threading.Barrier(concurrency + 1)
    setup_failures: list[BaseException] = []

    def worker() -> None:
        try:
            send = make_sender()
            for _ in range(WARMUP_REQUESTS_PER_CLIENT):
                send()
        except BaseException as exc:  # reported after the run; the barrier must still be met
            setup_failures.append(exc)
            start_barrier.wait()
            return
        start_barrier.wait()
        local: list[float] = []
        local_errors = 0
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            began = time.perf_counter()
            try:
                send()
            except Exception:
                local_errors += 1
                continue
            local.append(time.perf_counter() - began)
        with lock:
            latencies.extend(local)
            errors[0] += local_errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if setup_failures:
        raise RuntimeError(f"{target}: client setup failed: {setup_failures[0]!r}")
    p50, p95, p99 = (
        np.percentile(np.asarray(latencies) * 1000, [50, 95, 99]) if latencies else (np.nan,) * 3
    )
    return LevelResult(
        target=target,
        batch_size=batch_size,
        concurrency=concurrency,
        requests=total_requests,
        errors=errors[0],
        seconds=seconds,
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
    )
