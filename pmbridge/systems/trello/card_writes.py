"""Writing cards and the write helpers of the Trello connector.

A card goes to a list by name on its own board (``lists.send_to`` looks the list up, makes
it when missing, and looks again when Trello says a cached list is gone); its board travels
with a list change, so Trello refuses a list no longer on it. A create's follow-up writes
(archiving it, its parts) that fail raise ``UnavailableError(maybe_applied=True)``: the
engine must find and repair the new object, never make it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from pmbridge.errors import InvalidValueError, NotFoundError, RemoteSystemError, UnavailableError
from pmbridge.records import Record
from pmbridge.systems.trello.card_reads import CardReads
from pmbridge.systems.trello.client import TrelloClient
from pmbridge.systems.trello.convert import CARD_FIELDS, card_record
from pmbridge.systems.trello.lists import BoardLists
from pmbridge.systems.trello.parts_write import CardParts, wanted_parts


class CardWrites:
    """Card creates and updates through ``client`` (see the module docstring); new cards
    with no list named go to the first of ``list_order``."""

    def __init__(
        self,
        client: TrelloClient,
        parts: CardParts,
        lists: BoardLists,
        reads: CardReads,
        list_order: Sequence[str],
        checklist_name: str,
    ):
        self.client = client
        self.parts = parts
        self.lists = lists
        self.reads = reads
        self.list_order = tuple(list_order)
        self.checklist_name = checklist_name

    async def create(self, values: dict[str, Any]) -> Record:
        """Create a card (in the list named, on its own board) with its parts."""
        if values.get("list") is None and values.get("idList") is None and self.list_order:
            values = {**values, "list": self.list_order[0]}  # no list named: the first one
        parts = wanted_parts(values)
        params = given(values, "name", "desc", "pos", "due", "start", "dueComplete")
        if values.get("list") is not None:
            board, name = required("card", values, "idBoard"), values["list"]
            card = await self.lists.send_to(
                board, name, lambda list_id: self.client.create_card(list_id, **params)
            )
            if card.get("idBoard", board) != board:
                # The cached list had moved to another board (a create names no board for
                # Trello to check): bring the card back to a list of its own board.
                self.lists.forget(board)
                made = card["id"]
                try:
                    card = await self.lists.send_to(
                        board,
                        name,
                        lambda list_id: self.client.update_card(
                            made, idList=list_id, idBoard=board
                        ),
                    )
                except RemoteSystemError as err:
                    raise UnavailableError(
                        f"Trello created the card {made} on board {card.get('idBoard')}, "
                        f"where its list {name!r} had moved, and could not move it back to "
                        f"board {board} ({err})",
                        system="trello",
                        status=err.status,
                        maybe_applied=True,
                    ) from err
        else:
            card = await self.client.create_card(required("card", values, "idList"), **params)
        if values.get("closed"):
            card = await after_create(
                "card", card["id"], "archive it", self.client.update_card(card["id"], closed=True)
            )
        if any(parts.values()):
            card = await after_create(
                "card",
                card["id"],
                "write its labels, members, checklist or attachments",
                self.parts.write(card["id"], parts, CARD_FIELDS),
            )
        else:
            # A new card has no checklists, attachments or members: say so, so that the
            # record carries its parts (as a read of the card would).
            card = {"checklists": [], "attachments": [], "members": [], **card}
        return await self.reads.record(card)

    async def update(self, id: str, values: dict[str, Any], known: Mapping[str, Any]) -> Record:
        """A card's board and list travel together: a card moving to another board keeps
        its list's name there, and a card changing list is placed on its own board; what
        the write does not name comes from ``known``, else from reading the card."""
        parts = wanted_parts(values)
        params = for_put(values, "name", "desc", "closed", "due", "start", "dueComplete", "pos")
        target_board = values.get("idBoard")
        to_list: tuple[str, str] | None = None  # (board, list name)
        if "list" in values or (target_board and "idList" not in values):
            list_name = values.get("list") or known.get("list")
            board = target_board or known.get("idBoard")
            if list_name is None or board is None:
                # Moving to another board without a list keeps the list's name.
                current = await self._current(id)
                list_name = list_name or current.fields.get("list")
                board = board or current.fields.get("idBoard")
            if not list_name or not board:
                raise InvalidValueError(
                    f"cannot tell which list card {id} goes to: give 'list'",
                    system="trello",
                    field="list",
                )
            to_list = (board, list_name)
        elif "idList" in values:
            params["idList"] = values["idList"]
        if target_board:
            params["idBoard"] = target_board
        card: dict[str, Any] | None = None
        if to_list is not None:
            board, list_name = to_list

            async def put(list_id: str) -> dict[str, Any]:
                # The board goes along, so that Trello refuses a list no longer on it.
                params.update(idList=list_id, idBoard=board)
                return await self.client.update_card(id, **params)

            card = await self.lists.send_to(board, list_name, put)
        elif params or not parts:
            card = await self.client.update_card(id, **params)
        if parts:
            card = await self.parts.write(id, parts, CARD_FIELDS)
        assert card is not None
        if "list" in values and card.get("idList") == params.get("idList"):
            # the list's name is the one just sent
            return card_record(card, values["list"], checklist_name=self.checklist_name)
        name = self.lists.cached_name(card.get("idBoard") or "", card.get("idList"))
        if name is not None:
            return card_record(card, name, checklist_name=self.checklist_name)
        # The list did not change and naming it would cost a call: leave it out (partial).
        record = card_record(card, None, checklist_name=self.checklist_name)
        fields = {k: v for k, v in record.fields.items() if k != "list"}
        return dataclasses.replace(record, fields=fields, partial=True)

    async def _current(self, id: str) -> Record:
        try:
            return await self.reads.one(id)
        except NotFoundError:
            raise NotFoundError(
                f"Trello has no card {id} (any more)", system="trello", status=404
            ) from None


async def after_create(
    kind: str, id: str, doing: str, step: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    """A follow-up write of a create (``doing`` says what it does, for the error); if it
    fails the engine must repair, not re-create."""
    try:
        return await step
    except RemoteSystemError as err:
        raise UnavailableError(
            f"Trello created the {kind} {id} but could not {doing} ({err}); the next run "
            "finds the new object and writes it again",
            system="trello",
            status=err.status,
            maybe_applied=True,
        ) from err


def given(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named values that are set (``None`` means "leave Trello's default")."""
    return {name: values[name] for name in names if values.get(name) is not None}


def for_put(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named values present in ``values``, as a PUT sends them: an empty ``desc`` is
    ``""``; an empty date or website is ``null`` (which clears it); other empties are left
    out (Trello cannot clear them)."""
    params: dict[str, Any] = {}
    for name in names:
        if name not in values:
            continue
        value = values[name]
        if value is None and name == "desc":
            params[name] = ""
        elif value is not None or name in ("due", "start", "website"):
            params[name] = value
    return params


def required(kind: str, values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if value is None or value == "":
        raise InvalidValueError(
            f"a Trello {kind} needs {name!r} to be written", system="trello", field=name
        )
    return value
