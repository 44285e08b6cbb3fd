"""What the dashboard's buttons do to the systems, through the engine, as the CLI does it.

``resolve_conflict`` is the one function that settles a conflict from the page; it calls the
engine exactly as ``pmbridge conflicts resolve`` does, so the same checks apply. After the
engine's refactor, re-point it here and nothing else in the dashboard changes.

A dead letter is retried by running a cycle: inside ``pmbridge serve`` the service is asked
for a prompt one (``trigger``); under ``pmbridge ui`` a cycle of that flow runs at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pmbridge.config import Settings
from pmbridge.engine.run import CycleStopped, SyncOptions
from pmbridge.errors import PmbridgeError
from pmbridge.records import Side
from pmbridge.store import Store
from pmbridge.wiring import open_engine


async def resolve_conflict(settings: Settings, store: Store, conflict_id: int, take: Side) -> str:
    """Write side ``take``'s value of conflict ``conflict_id`` to both sides (the CLI's way)."""
    async with open_engine(settings, store=store) as runtime:
        return await runtime.engine.resolve_conflict(conflict_id, take)


@dataclass
class Actions:
    """The dashboard's actions on the systems.

    :param settings: to open an engine (None: the dashboard can only read and dismiss)
    :param trigger: asks a running service for a prompt cycle (None: run one here)
    """

    settings: Settings | None
    store: Store
    trigger: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self._one_at_a_time = asyncio.Lock()

    @property
    def can_write(self) -> bool:
        return self.settings is not None

    def _settings(self) -> Settings:
        if self.settings is None:
            raise PmbridgeError(
                "this dashboard has no connection settings (Trello and Custompms), so it "
                "cannot write; set them as for pmbridge sync"
            )
        return self.settings

    async def resolve_conflict(self, conflict_id: int, take: Side) -> str:
        settings = self._settings()
        async with self._one_at_a_time:
            return await resolve_conflict(settings, self.store, conflict_id, take)

    async def retry(self, flow: str) -> str:
        """Retry a flow's dead letters now; says what happened."""
        if self.trigger is not None:
            self.trigger()
            return "A cycle starts in about a second; it retries every dead letter."
        settings = self._settings()
        options = SyncOptions(
            flows=[flow],
            full_every=settings.full_every,
            delete_share=settings.allow_delete_share,
            delete_min=settings.allow_delete_min,
        )
        async with self._one_at_a_time, open_engine(settings, store=self.store) as runtime:
            try:
                report = await runtime.engine.run(options)
            except CycleStopped as stopped:
                return f"The cycle stopped: {stopped.cause}"
        if report.errors:
            return f"Retried {flow}: {report.errors} record(s) failed again (see below)."
        return f"Retried {flow}: every record went through."
