"""``/healthz`` and ``/readyz``: is ``pmbridge serve`` alive, and is it syncing?

``ServeStatus`` is the service's record of its cycles and of the systems' answers (the
dashboard's overview and ``/metrics`` read it too). Ready means:

- both systems answered within the last interval (plus the last cycle's own length, since
  nothing is asked between cycles), and the latest cycle was not stopped by one of them;
- the last cycle that ended without being stopped is not older than 3 intervals.

Otherwise ``/readyz`` answers 503 with one line per thing that is wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from pmbridge.engine.report import CycleReport
from pmbridge.errors import PmbridgeError
from pmbridge.serve.metrics import ServeMetrics
from pmbridge.store import Store

SYSTEMS = ("custompms", "trello")
SYSTEM_NAMES = {"custompms": "Custompms", "trello": "Trello"}
GRACE_S = 5.0


@dataclass
class HintSeen:
    """The last delivery from one source."""

    what: str
    at: float  # wall clock, seconds


@dataclass
class ServeStatus:
    """What the service did and when (``clock``: monotonic seconds, fake in tests)."""

    interval_s: float
    clock: Callable[[], float] = time.monotonic
    store: Store | None = None
    metrics: ServeMetrics = field(init=False)
    answered_at: dict[str, float] = field(default_factory=dict)
    last_success_at: float | None = None
    last_cycle_s: float = 0.0
    last_error: PmbridgeError | None = None
    running_since: float | None = None
    cycles: int = 0
    hints: dict[str, HintSeen] = field(default_factory=dict)
    #: the last delivery per Trello board (its id)
    boards: dict[str, HintSeen] = field(default_factory=dict)
    progress: dict[str, tuple[int, int]] = field(default_factory=dict)  # flow → (done, total)
    _first_notice: float | None = None  # the first delivery waiting for a cycle
    _cycle_notice: float | None = None  # … and the one the running cycle answers

    def __post_init__(self) -> None:
        self.metrics = ServeMetrics(lambda: self.store)

    # --- what the service tells it ---------------------------------------------------------

    def cycle_started(self) -> None:
        self.running_since = self.clock()
        self.progress = {}
        self._cycle_notice, self._first_notice = self._first_notice, None

    def cycle_ended(
        self, report: CycleReport, seconds: float, error: PmbridgeError | None = None
    ) -> None:
        self.running_since = None
        self.cycles += 1
        self.last_cycle_s = seconds
        self.last_error = error
        self.metrics.cycle_ended(report, seconds, failed=error is not None)
        if error is None:
            self.last_success_at = self.clock()
            if self._cycle_notice is not None and report.writes:
                self.metrics.notice_to_write.observe(self.clock() - self._cycle_notice)
        elif self._first_notice is None:
            self._first_notice = self._cycle_notice  # the retry answers it
        self._cycle_notice = None

    def answered(self, system: str, status: int) -> None:
        """A system answered a request (a 5xx counts as not answering)."""
        self.metrics.answered(system, status)
        if status < 500:
            self.answered_at[system] = self.clock()

    def hint_received(self, source: str, what: str, board: str | None = None) -> None:
        self.hints[source] = HintSeen(what, time.time())
        if board is not None:
            self.boards[board] = HintSeen(what, time.time())
        if source in SYSTEMS and self._first_notice is None:
            self._first_notice = self.clock()

    def watch(self, runtime: Any) -> None:
        """Follow the runtime's engine (its progress per flow) and count the answers of its
        two HTTP clients (event hooks on httpx)."""
        engine = getattr(runtime, "engine", None)
        if engine is not None and callable(getattr(engine, "progress", None)):
            before = engine.progress

            def progress(flow: str, done: int, total: int) -> None:
                self.progress[flow] = (done, total)
                before(flow, done, total)

            engine.progress = progress
        for system in SYSTEMS:
            http = getattr(getattr(getattr(runtime, system, None), "client", None), "_http", None)
            if isinstance(http, httpx.AsyncClient):
                http.event_hooks["response"].append(self._hook(system))
            client = getattr(getattr(runtime, system, None), "client", None)
            listeners = getattr(client, "retry_listeners", None)
            if isinstance(listeners, list):
                listeners.append(lambda system=system: self.metrics.retried(system))

    def _hook(self, system: str) -> Callable[[httpx.Response], Any]:
        async def on_response(response: httpx.Response) -> None:
            self.answered(system, response.status_code)

        return on_response

    # --- what it says ----------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What keeps the service from being ready (empty: ready)."""
        now = self.clock()
        out: list[str] = []
        window = self.interval_s + max(self.last_cycle_s, 0.0) + GRACE_S
        failed_system = getattr(self.last_error, "system", None)
        for system in SYSTEMS:
            name = SYSTEM_NAMES[system]
            at = self.answered_at.get(system)
            if failed_system == system:
                out.append(f"{name} did not answer the last cycle: {self.last_error}")
            elif at is None:
                out.append(f"{name} has not answered yet")
            elif now - at > window:
                out.append(f"{name} last answered {now - at:.0f} s ago (more than {window:.0f} s)")
        if self.last_error is not None and failed_system not in SYSTEMS:
            out.append(f"the last cycle stopped: {self.last_error}")
        if self.last_success_at is None:
            out.append("no cycle has finished yet")
        elif now - self.last_success_at > 3 * self.interval_s:
            out.append(
                f"the last finished cycle is {now - self.last_success_at:.0f} s old "
                f"(more than 3 intervals of {self.interval_s:g} s)"
            )
        return out


router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok\n")


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    status: ServeStatus = request.app.state.serve_status
    problems = status.problems()
    body = {"ready": not problems, "problems": problems, "cycles": status.cycles}
    return JSONResponse(body, status_code=200 if not problems else 503)
