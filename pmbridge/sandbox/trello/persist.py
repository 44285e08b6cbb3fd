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

from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import TABLES, World

if TYPE_CHECKING:
    from pmbridge.sandbox.trello.config import MemberConfig

log = logging.getLogger(__name__)

SAVE_INTERVAL_S = 0.25
STATE_VERSION = 1


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
            world = restore(state, members)
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"cannot read the sandbox state file {self.path}: {err}") from err
        self._saved_revision = world.revision
        return world

    def save(self, world: World, *, force: bool = False) -> bool:
        """Write the world if it changed since the last save; True if written."""
        revision = world.revision
        if revision == self._saved_revision and not force:
            return False
        data = json.dumps(snapshot(world), ensure_ascii=False, separators=(",", ":"))
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


def snapshot(world: World) -> dict:
    """The whole state as JSON-able data (members without their tokens)."""
    with world.lock:
        state: dict = {
            "version": STATE_VERSION,
            "members": [
                {"id": m.id, "username": m.username, "fullName": m.full_name}
                for m in world.members.values()
            ],
            "nextIdShort": dict(world.next_id_short),
        }
        for table in TABLES:
            state[table] = list(getattr(world, table).values())
        return state


def restore(state: dict, members: Iterable[MemberConfig]) -> World:
    """A world from ``snapshot()`` data; configured members keep their saved ids.

    Tables added since a file was written (labels, checklists…) load as empty."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"saved sandbox state has version {state.get('version')!r}")
    saved_ids = {m["username"]: m["id"] for m in state["members"]}
    world = World()
    for member in members:
        member_id = member.id or saved_ids.get(member.username)
        world.add_member(member.username, member.full_name, member.token or "", member_id=member_id)
    known_usernames = {m.username for m in world.members.values()}
    for saved in state["members"]:
        # A member who made actions but is no longer configured keeps a name, not a token.
        if saved["username"] not in known_usernames and saved["id"] not in world.members:
            world.members[saved["id"]] = Member(
                saved["id"], saved["username"], saved["fullName"], token=""
            )
    for table in TABLES:
        target: dict[str, dict] = getattr(world, table)
        for item in state.get(table, []):
            target[item["id"]] = item
    world.next_id_short = {k: int(v) for k, v in state["nextIdShort"].items()}
    world.reindex()
    return world
