"""The reference Custompms behind a test's ASGI middleware, served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.sandbox.server import ServerThread


@pytest.fixture
def serve(custompms_app: CustompmsApp) -> Iterator[Any]:
    """Serve the reference app behind a middleware: ``url = serve(middleware)``."""
    servers: list[ServerThread] = []

    def start(middleware: Any) -> str:
        server = ServerThread(middleware(custompms_app)).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
