"""Cards and comments as records, from what the board feeds say.

An ``updateCard`` carries a card's new values, so a card changed in place needs no call
(``feed.fold_card_actions``). Created, copied or moved cards are fetched ten to a ``/batch``
call; a board read for the first time, or whose lists were renamed or moved, is listed in
full; a deleted card is a tombstone. A listed card the caller knows comes without its
``pos``: Trello renumbers siblings by itself, so only an action may say a person moved it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Container, Mapping
from typing import Any

from pmbridge.concurrency import run_all
from pmbridge.errors import NotFoundError, UnavailableError
from pmbridge.records import Record
from pmbridge.systems.trello.board_feeds import Action
from pmbridge.systems.trello.client import ActionsQuery, TrelloClient, batch_url, segment
from pmbridge.systems.trello.convert import (
    CARD_FIELDS,
    card_record,
    comment_record,
    is_comment,
    tombstone,
)
from pmbridge.systems.trello.feed import CardChange, fold_card_actions
from pmbridge.systems.trello.lists import BoardLists
from pmbridge.systems.trello.parts import PART_PARAMS
from pmbridge.systems.trello.parts_write import CardParts


class CardReads:
    """Card and comment records of boards, through ``client`` (``parts`` for a card's
    labels, members, checklist and attachments, ``lists`` for its list's name)."""

    def __init__(
        self, client: TrelloClient, parts: CardParts, lists: BoardLists, checklist_name: str
    ):
        self.client = client
        self.parts = parts
        self.lists = lists
        self.checklist_name = checklist_name

    async def one(self, id: str) -> Record:
        """The card ``id`` (``NotFoundError`` when there is none)."""
        return await self.record(await self.parts.card(id, CARD_FIELDS))

    async def from_feed(
        self, fresh: list[Action], listed: set[str], relist: set[str], known: Container[str]
    ) -> list[Record]:
        """Records from the actions read; boards in ``listed`` (read for the first time) and
        ``relist`` (a list was renamed or moved) are listed in full and join ``listed``.
        A created card the caller ``known``s already is not fetched: the action says enough."""
        changes = fold_card_actions(fresh)
        for board in relist:
            self.lists.forget(board)
        listed |= relist
        by_id: dict[str, Record] = {}
        for records in await run_all(self.on_board(b) for b in sorted(listed)):
            by_id.update((r.id, _without_renumbering(r, known)) for r in records)
        to_fetch = [
            c.id
            for c in changes.values()
            if (c.fetch or (c.created and c.id not in known)) and not c.deleted
        ]
        fetched = await self._fetch([i for i in to_fetch if i not in by_id])
        for change in changes.values():
            record = _from_change(change, by_id.get(change.id) or fetched.get(change.id))
            if record is not None:
                by_id[change.id] = record
        return list(by_id.values())

    async def on_board(self, board: str) -> list[Record]:
        """Every open card of ``board``, with its parts."""
        cards = await self.parts.board_cards(board, CARD_FIELDS)
        return [await self.record(card) for card in cards]

    async def _fetch(self, ids: list[str]) -> dict[str, Record]:
        routes = [
            batch_url(f"/cards/{segment(i)}", {"fields": CARD_FIELDS, **PART_PARAMS}) for i in ids
        ]
        found: dict[str, Record] = {}
        for card_id, item in zip(ids, await self.client.batch(routes), strict=True):
            if item.ok:
                found[card_id] = await self.record(item.body)
            elif item.status == 404:
                found[card_id] = tombstone("card", card_id)
            else:
                # The feed position must not move past a change we could not read.
                raise UnavailableError(
                    f"Trello answered {item.status} for card {card_id} inside GET /batch; the "
                    "cards of this read are read again next time",
                    system="trello",
                    status=item.status,
                )
        return found

    async def record(self, card: Mapping[str, Any]) -> Record:
        """A card's JSON as a record, its list named."""
        name = await self.lists.name_of(card.get("idBoard") or "", card.get("idList"))
        return card_record(card, name, checklist_name=self.checklist_name)

    async def comments(self, fresh: list[Action], listed: set[str]) -> list[Record]:
        """Comments from the actions read, and every comment of the boards in ``listed``
        (their comment actions, ten boards to a ``/batch`` call)."""
        records = [comment_record(a) for a in fresh if is_comment(a)]
        boards = sorted(listed)
        queries = [ActionsQuery(b, filter="commentCard") for b in boards]
        for board, actions in zip(boards, await self.client.boards_actions(queries), strict=True):
            if actions is None:
                raise NotFoundError(
                    f"Trello has no board {board} any more, or the token cannot see it",
                    system="trello",
                    status=404,
                )
            records.extend(comment_record(a) for a in actions if is_comment(a))
        return records


def _from_change(change: CardChange, full: Record | None) -> Record | None:
    if change.deleted:
        return tombstone("card", change.id, change.updated_at)
    if full is not None:
        if full.deleted:
            return full
        # What the listing left out (a known card's ``pos``), the actions may tell.
        missing = {k: v for k, v in change.fields.items() if k not in full.fields}
        return Record(
            kind="card",
            id=full.id,
            fields={**full.fields, **missing},
            updated_at=full.updated_at,
            partial=full.partial and "pos" not in missing,
            changed_at={**full.changed_at, **change.changed_at},
        )
    if not change.fields:
        return None  # changes to properties pmbridge does not carry
    return Record(
        kind="card",
        id=change.id,
        fields=dict(change.fields),
        updated_at=change.updated_at,
        partial=True,
        changed_at=dict(change.changed_at),
    )


def _without_renumbering(record: Record, known: Container[str]) -> Record:
    """A listed card the caller knows, without its ``pos``: Trello renumbers siblings'
    positions by itself (no action records it), so only an ``updateCard`` action may say
    that a person moved the card."""
    if record.id not in known or record.deleted or "pos" not in record.fields:
        return record
    fields = {k: v for k, v in record.fields.items() if k != "pos"}
    return dataclasses.replace(record, fields=fields, partial=True)
