"""Saving the sandbox's world to a JSON file, and loading it back.

The app saves periodically while it runs (only when something changed) and once more on
shutdown, so a restart with the same file sees the same objects and actions. Writes go to a
temporary file first, then replace the old one, so a crash never leaves half a file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pmbridge.sandbox.trello.world import World

if TYPE_CHECKING:
    from pmbridge.sandbox.trello.config import MemberConfig

log = logging.getLogger(__name__)

SAVE_INTERVAL_S = 0.25


class StateFile:
    """One world's JSON file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._saved_revision = -1

    def load(self, members: Iterable[MemberConfig]) -> World | None:
        """The saved world, or None when there is no file yet."""
        if not self.path.exists():
            return None
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
            world = World.restore(state, members)
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"cannot read the sandbox state file {self.path}: {err}") from err
        self._saved_revision = world.revision
        return world

    def save(self, world: World, *, force: bool = False) -> bool:
        """Write the world if it changed since the last save; True if written."""
        revision = world.revision
        if revision == self._saved_revision and not force:
            return False
        data = json.dumps(world.snapshot(), ensure_ascii=False, separators=(",", ":"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, self.path)
        self._saved_revision = revision
        return True

    async def autosave(self, world: World, interval: float = SAVE_INTERVAL_S) -> None:
        """Save every ``interval`` seconds while something changes; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.save, world)
            except OSError:
                log.exception("could not save the sandbox state to %s", self.path)
