"""Listening sockets: one helper for every server pmbridge starts, and a free port for tests.

``pmbridge serve``'s receiver, the sandboxes (``pmbridge sandbox ...``, ``ServerThread``) and
the tests bind through ``listening_socket``. It imports nothing from pmbridge, so the
sandboxes (which import nothing from the engine or the connectors) may use it.
"""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one) and already listening;
    ``OSError`` if the address is taken or not ours.

    Naming TCP lets asyncio switch off Nagle's algorithm (TCP_NODELAY) on accepted
    connections; without it every answer waits ~40 ms for a delayed ACK. Listening before a
    server announces its URL means a client that reads it at once queues, not gets refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for an address where nothing listens)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
