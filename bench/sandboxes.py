"""Both sandboxes for one benchmark run: a Trello sandbox and a reference Custompms.

``Sandboxes`` starts them on free ports of 127.0.0.1 (Custompms keeps its SQLite file in a
temporary folder of its own), gives the URLs and credentials an engine needs to reach them,
and reads the request counts each sandbox keeps SERVER SIDE — the only counts the
benchmarks report.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from pmbridge.sandbox.custompms import create_app as create_custompms_app
from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app as create_trello_app
from pmbridge.sandbox.trello.config import SandboxConfig
from pmbridge.sandbox.trello.ratelimit import RateLimitConfig

CUSTOMPMS_TOKEN = "bench-custompms-token-5c1e"


def oauth_header(key: str, token: str) -> str:
    """The ``Authorization`` header value Trello reads the key and token from."""
    return f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'


class Sandboxes:
    """A Trello sandbox and a reference Custompms, served until ``close()``.

    :param rate_limits: Trello's real per-token limits on (else off)
    :param trello_latency_ms: latency the Trello sandbox adds to every request
    """

    def __init__(self, *, rate_limits: bool = False, trello_latency_ms: float = 0.0):
        self.folder = Path(tempfile.mkdtemp(prefix="pmbridge-bench-"))
        self.trello_config = SandboxConfig(rate_limits=RateLimitConfig() if rate_limits else None)
        self.trello_app: Any = create_trello_app(self.trello_config)
        if trello_latency_ms:
            self.trello_app.state.control.set_faults(latency_ms=trello_latency_ms)
        self.custompms_app: Any = create_custompms_app(
            f"sqlite:///{self.folder / 'custompms.db'}", token=CUSTOMPMS_TOKEN
        )
        self._servers: list[ServerThread] = []

    def __enter__(self) -> Sandboxes:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        self.trello_server = ServerThread(self.trello_app).start()
        self._servers.append(self.trello_server)
        self.custompms_server = ServerThread(self.custompms_app).start()
        self._servers.append(self.custompms_server)

    def close(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        self.custompms_app.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- what a client needs -----------------------------------------------------------

    @property
    def trello_root(self) -> str:
        """Trello's API root (``…/1``)."""
        return self.trello_server.url + "/1"

    @property
    def custompms_url(self) -> str:
        return self.custompms_server.url

    @property
    def trello_key(self) -> str:
        return self.trello_config.key

    @property
    def trello_token(self) -> str:
        return self.trello_config.default_member.token

    @property
    def trello_authorization(self) -> str:
        return oauth_header(self.trello_key, self.trello_token)

    def connection(self) -> dict[str, str]:
        """URLs and credentials of both systems, as plain strings (for a child process)."""
        return {
            "trello_url": self.trello_root,
            "trello_key": self.trello_key,
            "trello_token": self.trello_token,
            "custompms_url": self.custompms_url,
            "custompms_token": CUSTOMPMS_TOKEN,
        }

    # -- server-side request counts ----------------------------------------------------

    def reset_counts(self) -> None:
        self.trello_app.state.control.stats.reset()
        self.custompms_app.state.control.stats.reset()

    def counts(self) -> dict[str, dict[str, Any]]:
        """Requests each sandbox answered since the last reset (see ``SandboxControl``)."""
        return {
            "trello": self.trello_app.state.control.stats.snapshot(),
            "custompms": self.custompms_app.state.control.stats.snapshot(),
        }
