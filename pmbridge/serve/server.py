"""The receiver's HTTP server: an ASGI app under uvicorn, on the service's own event loop.

uvicorn's signal handlers are left out (the service decides when to stop) and so is its
logging setup (the process's logging is left alone). The socket is given, bound already
(``listening_on`` the ``--listen`` address, or a test's on port 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from pmbridge.errors import ConfigError
from pmbridge.sockets import listening_socket


def listening_on(host: str, port: int) -> socket.socket:
    """A socket listening on ``--listen``'s address, or a ``ConfigError`` naming it."""
    try:
        return listening_socket(host, port)
    except OSError as err:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); choose another "
            "address with --listen HOST:PORT"
        ) from None


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AppServer:
    """``app`` served on ``sock`` from ``start`` until ``stop``.

    :param app: the ASGI app
    :param sock: the bound socket to serve on (closed here if the server cannot start)
    """

    def __init__(self, app: Any, sock: socket.socket):
        self.sock = sock
        config = uvicorn.Config(
            app,
            log_config=None,  # leave the process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _Uvicorn(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self, within_s: float = 10) -> None:
        """Serve; raises ``ConfigError`` when uvicorn has not started within ``within_s``."""
        server, sock = self._server, self.sock
        task = asyncio.create_task(server.serve(sockets=[sock]), name="pmbridge receiver")
        deadline = time.monotonic() + within_s
        while not server.started:
            if task.done() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise ConfigError(f"the receiver could not start on {_address(sock)}")
            await asyncio.sleep(0.01)
        self._task = task

    def address(self) -> tuple[str, int]:
        """The (host, port) it serves on, e.g. the free port a test's socket was bound to."""
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        """Stop serving (open connections get a second to finish)."""
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5)


def _address(sock: socket.socket) -> str:
    with contextlib.suppress(OSError):
        host, port = sock.getsockname()[:2]
        return f"{host}:{port}"
    return "its address"
