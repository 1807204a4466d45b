"""Loopback port helpers."""

from __future__ import annotations

import socket

from kedro_mlops_kit.serving.errors import PortInUseError

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a currently free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def ensure_free(port: int, purpose: str) -> None:
    """Raise ``PortInUseError`` if ``port`` cannot be bound on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise PortInUseError(
                f"{purpose} port {port} on {LOOPBACK} is already in use ({exc.strerror}); "
                "stop the other server or choose another port"
            ) from exc
