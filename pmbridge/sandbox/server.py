"""Run an ASGI app under uvicorn on 127.0.0.1 in a background thread.

Used by the test fixtures, the demo and the benchmarks to start the sandboxes on free
ports: ``with ServerThread(app) as server: httpx.get(server.url + "/...")``. The socket comes
from ``pmbridge.sockets``, as every server's does.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from pmbridge.sockets import listening_socket


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
