"""Trello as a ``pmbridge.systems.base.System``: organizations, boards, cards and comments
as records (the field lists are in ``convert.py``).

Reads cost few calls. Workspaces and boards come through ``/batch`` (10 routes a call).
Cards and comments are read from each board's action feed since the cursor (``board_feeds``,
ten boards' feeds to a ``/batch`` call), made records by ``card_reads``. The feed read for
cards is cached for the cycle and reused by the comment read of the same boards. Cards are
written by ``card_writes``. ``/1/members/`` (tightly rate-limited) is only touched by
``check()`` and by the one discovery read of organizations (``cursor=None``, empty scope).
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pmbridge.errors import (
    ConfigError,
    NotFoundError,
)
from pmbridge.records import Record, Side
from pmbridge.systems.base import CreatedProbe, Feed, Memo, Scope
from pmbridge.systems.trello import cursor as cursors
from pmbridge.systems.trello.board_feeds import Action, BoardFeeds
from pmbridge.systems.trello.card_reads import CardReads
from pmbridge.systems.trello.card_writes import (
    CardWrites,
    after_create,
    for_put,
    given,
    required,
)
from pmbridge.systems.trello.client import (
    BatchItem,
    TrelloClient,
    batch_url,
    segment,
)
from pmbridge.systems.trello.convert import (
    BOARD_FIELDS,
    KINDS,
    ORGANIZATION_FIELDS,
    board_record,
    comment_record,
    is_comment,
    organization_record,
    tombstone,
    writable_fields,
)
from pmbridge.systems.trello.cursor import BoardPosition
from pmbridge.systems.trello.feed import needs_relist
from pmbridge.systems.trello.lists import BoardLists
from pmbridge.systems.trello.parts import DEFAULT_CHECKLIST
from pmbridge.systems.trello.parts_write import CardParts

# Workspace and board reads keep no position: each is a fresh read of its scope.
STATELESS_CURSOR = json.dumps({"v": cursors.VERSION})
_UNSET = object()
# Which linked objects scope a read of each kind: Trello has no global feed.
SCOPE_KINDS = {
    "organization": "organization",
    "board": "organization",
    "card": "board",
    "comment": "board",
}
# Clocks differ between us and Trello; a comment made a little "before" our intent is ours.
CLOCK_SKEW = timedelta(minutes=5)
# The fields that identify an object whose create answer was lost (besides a marker).
_PROBE_FIELDS = ("name", "displayName", "text")


class TrelloSystem:
    """Trello, seen as records.

    :param client: the API client (one per token)
    :param list_order: list names in the order a board's lists should have; a card's list
        that does not exist yet is created at its place in this order
    :param checklist_name: the card checklist whose items a card's ``checklist`` holds
    :param memo: where each board's lists are kept between runs (none: for this connector's
        life only)
    """

    name: Side = "trello"
    # Comments on a board go on a card of it: Trello has no comments on boards.
    anchor_kind: str | None = "card"

    def __init__(
        self,
        client: TrelloClient,
        *,
        list_order: Sequence[str] = ("To Do", "Doing", "Done"),
        checklist_name: str = DEFAULT_CHECKLIST,
        memo: Memo | None = None,
    ):
        self.client = client
        self.checklist_name = checklist_name
        self.parts = CardParts(client, checklist_name)
        self.list_order = tuple(list_order)
        self.member: dict[str, Any] | None = None
        self.lists = BoardLists(client, self.list_order, memo)
        self.cards = CardReads(client, self.parts, self.lists, checklist_name)
        self.card_writes = CardWrites(
            client, self.parts, self.lists, self.cards, self.list_order, checklist_name
        )
        # The board feeds read this cycle, under ``_feed_cursor``.
        self.feeds = BoardFeeds(client)
        self._feed_cursor: object = _UNSET
        # Board listings of workspaces, read along with the workspaces (see below).
        self._org_boards: dict[str, BatchItem] = {}

    async def unsupported(self, kind: str) -> frozenset[str]:
        """None: every Trello board has labels, members, checklists and attachments."""
        return frozenset()

    async def begin_cycle(self) -> None:
        """Start a sync cycle: forget the feeds the previous one read. Each board's lists
        are kept across cycles (a service saves a call per board and cycle), and in the
        memo between runs: a board's feed showing a list action drops them."""
        self._clear_feed_cache()
        self.lists.new_cycle()
        self.parts.clear()
        self._org_boards.clear()

    async def check(self) -> None:
        """Prove Trello answers and the key and token work; remembers the member."""
        if self.member is None:
            self.member = await self.client.get_me(fields="id,username,fullName")

    async def aclose(self) -> None:
        """Keep the lists for the next run, and release connections."""
        self.lists.save()
        await self.client.aclose()

    def scope_kind(self, kind: str) -> str | None:
        if kind not in SCOPE_KINDS:
            raise _unknown_kind(kind)
        return SCOPE_KINDS[kind]

    # -- reading ---------------------------------------------------------------------------

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        containers = list(dict.fromkeys(scope.containers))
        if kind == "organization":
            return await self._read_organizations(None if scope.full else cursor, containers)
        if kind == "board":
            return await self._read_boards(containers)
        if kind in ("card", "comment"):
            if cursor != self._feed_cursor:
                self._clear_feed_cache()
                self._feed_cursor = cursor
            return await self._read_board_feeds(
                kind, cursor, containers, scope.known, full=scope.full
            )
        raise _unknown_kind(kind)

    async def _read_organizations(self, cursor: str | None, ids: list[str]) -> Feed:
        if cursor is None:
            # A full read discovers every workspace of the member, linked or not.
            orgs = await self.client.get_my_organizations(fields=ORGANIZATION_FIELDS)
            return Feed(
                [organization_record(org) for org in orgs],
                cursor=STATELESS_CURSOR,
                listed=frozenset({"*"}),
            )
        # The workspaces' board listings ride along in the same /batch call (a board read of
        # these workspaces follows in the same cycle): one call for up to five workspaces.
        routes = [
            batch_url(f"/organizations/{segment(i)}", {"fields": ORGANIZATION_FIELDS}) for i in ids
        ] + [self._boards_route(i) for i in ids]
        items = await self.client.batch(routes)
        self._org_boards.update(zip(ids, items[len(ids) :], strict=True))
        records: list[Record] = []
        complete = True
        for org_id, item in zip(ids, items[: len(ids)], strict=True):
            if item.ok:
                records.append(organization_record(item.body))
            elif item.status == 404:
                records.append(tombstone("organization", org_id))
            else:
                complete = False
        return Feed(records, cursor=STATELESS_CURSOR, complete=complete)

    @staticmethod
    def _boards_route(org_id: str) -> str:
        return batch_url(
            f"/organizations/{segment(org_id)}/boards", {"filter": "all", "fields": BOARD_FIELDS}
        )

    async def _read_boards(self, org_ids: list[str]) -> Feed:
        missing = [i for i in org_ids if i not in self._org_boards]
        fetched = await self.client.batch([self._boards_route(i) for i in missing])
        self._org_boards.update(zip(missing, fetched, strict=True))
        records: list[Record] = []
        listed: set[str] = set()
        complete = True
        for org_id in org_ids:
            item = self._org_boards.pop(org_id)
            if item.ok:
                records.extend(board_record(board) for board in item.body)
                listed.add(org_id)
            else:
                complete = False
        return Feed(records, cursor=STATELESS_CURSOR, complete=complete, listed=frozenset(listed))

    async def _read_board_feeds(
        self,
        kind: str,
        cursor: str | None,
        boards: list[str],
        known: Container[str],
        *,
        full: bool = False,
    ) -> Feed:
        positions = cursors.parse(cursor)
        reads = await self.feeds.read(boards, positions, full=full)
        for board, (end, actions, _) in zip(boards, reads, strict=True):
            self.lists.saw_feed(board, positions.get(board), end, actions)
        next_positions: dict[str, BoardPosition] = {}
        fresh: list[Action] = []
        listed: set[str] = set()
        complete = True
        for board, (position, actions, full) in zip(boards, reads, strict=True):
            if position is None:  # the board is gone or hidden: nothing can be said
                complete = False
                continue
            next_positions[board] = position
            fresh.extend(actions)
            if full:
                listed.add(board)
        if kind == "card":
            relist = {
                b for b, (_, actions, _) in zip(boards, reads, strict=True) if needs_relist(actions)
            }
            records = await self.cards.from_feed(fresh, listed, relist, known)
        else:
            records = await self.cards.comments(fresh, listed)
        return Feed(
            records,
            # Boards this read did not cover (a targeted read) keep their positions.
            cursor=cursors.dump(
                {**{b: p for b, p in positions.items() if b not in boards}, **next_positions}
            ),
            complete=complete,
            listed=frozenset(listed) if listed else None,
        )

    def _clear_feed_cache(self) -> None:
        self.feeds.clear()
        self._feed_cursor = _UNSET

    # -- one object --------------------------------------------------------------------------

    async def get(self, kind: str, id: str) -> Record | None:
        try:
            if kind == "organization":
                org = await self.client.get_organization(id, fields=ORGANIZATION_FIELDS)
                return organization_record(org)
            if kind == "board":
                return board_record(await self.client.get_board(id, fields=BOARD_FIELDS))
            if kind == "card":
                return await self.cards.one(id)
            if kind == "comment":
                action = await self.client.get_action(id)
                return comment_record(action) if is_comment(action) else None
        except NotFoundError:
            return None
        raise _unknown_kind(kind)

    async def anchor(self, container_kind: str, container: str, name: str) -> tuple[Record, bool]:
        """A board's card named ``name`` (its "About this project" card), made at the top of
        the board's first list when it has none."""
        if container_kind != "board":
            raise _unknown_kind(container_kind)
        for card in await self.cards.on_board(container):
            if card.fields.get("name") == name:
                return card, False
        card = await self.create(
            "card", {"idBoard": container, "name": name, "pos": "top"}, idempotency_key=""
        )
        return card, True

    async def find_created(self, kind: str, probe: CreatedProbe) -> Record | None:
        """Look in the object's container: an object carrying the probe's marker (a card's
        backlink footer); else a comment on the card with the same text made since the
        first attempt; else an object whose identifying fields (name, text) are equal."""
        if kind == "comment":
            card = await self.get("card", probe.container) if probe.container else None
            if card is None:
                return None
            scope = Scope((str(card.fields.get("idBoard")),))
        else:
            scope = Scope((probe.container,)) if probe.container else Scope()
        self._clear_feed_cache()
        feed = await self.read(kind, None, scope)
        candidates = [r for r in feed.records if not r.deleted and r.id not in probe.taken]
        if probe.marker and probe.marker_field:
            for record in candidates:
                value = str(record.fields.get(probe.marker_field) or "").rstrip()
                if value.endswith(probe.marker.strip()):
                    return record
            return None
        identity = {k: v for k, v in probe.fields.items() if k in _PROBE_FIELDS}
        if kind == "comment":
            since = probe.since - CLOCK_SKEW if probe.since else None
            newest_first = sorted(
                candidates, key=lambda r: r.updated_at or r.fields.get("date") or 0, reverse=True
            )
            for record in newest_first:
                when = record.fields.get("date") or record.updated_at
                if (
                    record.fields.get("idCard") == probe.container
                    and str(record.fields.get("text") or "").strip()
                    == str(identity.get("text") or "").strip()
                    and (since is None or when is None or when >= since)
                ):
                    return record
            return None
        for record in candidates:
            if identity and all(record.fields.get(k) == v for k, v in identity.items()):
                return record
        return None

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        # Trello has no idempotency keys; lost answers are found again by find_created.
        values = writable_fields(kind, fields) if kind in KINDS else None
        if values is None:
            raise _unknown_kind(kind)
        if kind == "organization":
            params = given(values, "desc", "website", "name")
            if not params.get("name", True):
                del params["name"]  # an empty short name: Trello makes one from displayName
            org = await self.client.create_organization(
                required(kind, values, "displayName"), **params
            )
            return organization_record(org)
        if kind == "board":
            board = await self.client.create_board(
                required(kind, values, "name"),
                **given(values, "desc", "idOrganization"),
                defaultLists=False,
            )
            if values.get("closed"):
                board = await after_create(
                    "board",
                    board["id"],
                    "archive it",
                    self.client.update_board(board["id"], closed=True),
                )
            return board_record(board)
        if kind == "card":
            return await self.card_writes.create(values)
        comment = await self.client.add_comment(
            required(kind, values, "idCard"), required(kind, values, "text")
        )
        return comment_record(comment)

    async def update(
        self,
        kind: str,
        id: str,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        known: Mapping[str, Any] | None = None,
    ) -> Record:
        # Trello keeps no versions, so ``version`` cannot be checked and is ignored.
        values = writable_fields(kind, fields) if kind in KINDS else None
        if values is None:
            raise _unknown_kind(kind)
        if kind == "organization":
            params = for_put(values, "displayName", "desc", "website", "name")
            return organization_record(await self.client.update_organization(id, **params))
        if kind == "board":
            params = for_put(values, "name", "desc", "closed", "idOrganization")
            return board_record(await self.client.update_board(id, **params))
        if kind == "card":
            return await self.card_writes.update(id, values, known or {})
        values.pop("idCard", None)  # a comment cannot move to another card
        text = required(kind, values, "text")
        return comment_record(await self.client.edit_comment(id, text))

    async def delete(self, kind: str, id: str) -> None:
        deletes = {
            "organization": self.client.delete_organization,
            "board": self.client.delete_board,
            "card": self.client.delete_card,
            "comment": self.client.delete_comment,
        }
        if kind not in deletes:
            raise _unknown_kind(kind)
        try:
            await deletes[kind](id)
        except NotFoundError:
            pass  # already gone


def _unknown_kind(kind: str) -> ConfigError:
    return ConfigError(f"Trello has no kind {kind!r}; use one of {', '.join(KINDS)}")
