"""Run an ASGI app under uvicorn on 127.0.0.1 in a background thread.

Used by the test fixtures, the demo and the benchmarks to start the sandboxes on free
ports: ``with ServerThread(app) as server: httpx.get(server.url + "/...")``.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and already listening (``OSError`` if taken).

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
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """An ASGI app served by uvicorn in a daemon thread.

    The listening socket is bound before the thread starts, so ``port=0`` picks a free port
    without a race and ``url`` is known at once.
    """

    def __init__(
        self, app: object, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "critical"
    ):
        self.app = app
        self.host = host
        self._sock = listening_socket(host, port)
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            host=host,
            port=self.port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL of the server, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
