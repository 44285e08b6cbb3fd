"""Trello as a ``pmbridge.systems.base.System``: organizations, boards, cards and comments
as records (the field lists are in ``convert.py``).

Reads cost few calls. Workspaces and boards come through ``/batch`` (10 routes a call).
Cards and comments are read from each board's action feed since the cursor (``board_feeds``,
ten boards' feeds to a ``/batch`` call): an ``updateCard`` carries its new values, so only
created, copied or moved cards are fetched (in batches), and a deleted card is a tombstone.
A board not yet in the cursor is listed in full. The feed read for cards is cached for the
cycle and reused by the comment read of the same boards. ``/1/members/`` (tightly
rate-limited) is only touched by ``check()`` and by the one discovery read of organizations
(``cursor=None``, empty scope).

One module because it is the one ``System`` implementation for Trello; feed folding, lists,
cursors, board feeds and card parts are already in modules of their own; next split: the
card reads apart from the writes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Container, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pmbridge.concurrency import run_all
from pmbridge.errors import (
    ConfigError,
    InvalidValueError,
    NotFoundError,
    RemoteSystemError,
    UnavailableError,
)
from pmbridge.records import Record, Side
from pmbridge.systems.base import CreatedProbe, Feed, Memo, Scope
from pmbridge.systems.trello import cursor as cursors
from pmbridge.systems.trello.board_feeds import Action, BoardFeeds
from pmbridge.systems.trello.client import (
    ActionsQuery,
    BatchItem,
    TrelloClient,
    batch_url,
    segment,
)
from pmbridge.systems.trello.convert import (
    BOARD_FIELDS,
    CARD_FIELDS,
    KINDS,
    ORGANIZATION_FIELDS,
    board_record,
    card_record,
    comment_record,
    is_comment,
    organization_record,
    tombstone,
    writable_fields,
)
from pmbridge.systems.trello.cursor import BoardPosition
from pmbridge.systems.trello.feed import CardChange, fold_card_actions, needs_relist
from pmbridge.systems.trello.lists import BoardLists
from pmbridge.systems.trello.parts import DEFAULT_CHECKLIST, PART_PARAMS
from pmbridge.systems.trello.parts_write import CardParts, wanted_parts

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
            records = await self._card_records(fresh, listed, relist, known)
        else:
            records = await self._comment_records(fresh, listed)
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

    async def _card_records(
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
        for records in await run_all(self._list_cards(b) for b in sorted(listed)):
            by_id.update((r.id, _without_renumbering(r, known)) for r in records)
        to_fetch = [
            c.id
            for c in changes.values()
            if (c.fetch or (c.created and c.id not in known)) and not c.deleted
        ]
        fetched = await self._fetch_cards([i for i in to_fetch if i not in by_id])
        for change in changes.values():
            record = self._card_from_change(change, by_id.get(change.id) or fetched.get(change.id))
            if record is not None:
                by_id[change.id] = record
        return list(by_id.values())

    @staticmethod
    def _card_from_change(change: CardChange, full: Record | None) -> Record | None:
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

    async def _list_cards(self, board: str) -> list[Record]:
        cards = await self.parts.board_cards(board, CARD_FIELDS)
        return [await self._card(card) for card in cards]

    async def _fetch_cards(self, ids: list[str]) -> dict[str, Record]:
        routes = [
            batch_url(f"/cards/{segment(i)}", {"fields": CARD_FIELDS, **PART_PARAMS}) for i in ids
        ]
        found: dict[str, Record] = {}
        for card_id, item in zip(ids, await self.client.batch(routes), strict=True):
            if item.ok:
                found[card_id] = await self._card(item.body)
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

    async def _card(self, card: Mapping[str, Any]) -> Record:
        name = await self.lists.name_of(card.get("idBoard") or "", card.get("idList"))
        return card_record(card, name, checklist_name=self.checklist_name)

    async def _comment_records(self, fresh: list[Action], listed: set[str]) -> list[Record]:
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

    # -- one object --------------------------------------------------------------------------

    async def get(self, kind: str, id: str) -> Record | None:
        try:
            if kind == "organization":
                org = await self.client.get_organization(id, fields=ORGANIZATION_FIELDS)
                return organization_record(org)
            if kind == "board":
                return board_record(await self.client.get_board(id, fields=BOARD_FIELDS))
            if kind == "card":
                return await self._card(await self.parts.card(id, CARD_FIELDS))
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
        for card in await self._list_cards(container):
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
            params = _given(values, "desc", "website", "name")
            if not params.get("name", True):
                del params["name"]  # an empty short name: Trello makes one from displayName
            org = await self.client.create_organization(
                _required(kind, values, "displayName"), **params
            )
            return organization_record(org)
        if kind == "board":
            board = await self.client.create_board(
                _required(kind, values, "name"),
                **_given(values, "desc", "idOrganization"),
                defaultLists=False,
            )
            if values.get("closed"):
                board = await self._after_create(
                    "board", board["id"], self.client.update_board(board["id"], closed=True)
                )
            return board_record(board)
        if kind == "card":
            return await self._create_card(values)
        comment = await self.client.add_comment(
            _required(kind, values, "idCard"), _required(kind, values, "text")
        )
        return comment_record(comment)

    async def _create_card(self, values: dict[str, Any]) -> Record:
        if values.get("list") is None and values.get("idList") is None and self.list_order:
            values = {**values, "list": self.list_order[0]}  # no list named: the first one
        parts = wanted_parts(values)
        params = _given(values, "name", "desc", "pos", "due", "start", "dueComplete")
        if values.get("list") is not None:
            board, name = _required("card", values, "idBoard"), values["list"]
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
            card = await self.client.create_card(_required("card", values, "idList"), **params)
        if values.get("closed"):
            card = await self._after_create(
                "card", card["id"], self.client.update_card(card["id"], closed=True)
            )
        if any(parts.values()):
            card = await self._after_create(
                "card", card["id"], self.parts.write(card["id"], parts, CARD_FIELDS)
            )
        else:
            # A new card has no checklists, attachments or members: say so, so that the
            # record carries its parts (as a read of the card would).
            card = {"checklists": [], "attachments": [], "members": [], **card}
        return await self._card(card)

    @staticmethod
    async def _after_create(kind: str, id: str, step: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        """A follow-up write of a create; if it fails the engine must repair, not re-create."""
        try:
            return await step
        except RemoteSystemError as err:
            raise UnavailableError(
                f"Trello created the {kind} {id} but could not archive it ({err}); the next run "
                "finds the new object and archives it",
                system="trello",
                status=err.status,
                maybe_applied=True,
            ) from err

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
            params = _for_put(values, "displayName", "desc", "website", "name")
            return organization_record(await self.client.update_organization(id, **params))
        if kind == "board":
            params = _for_put(values, "name", "desc", "closed", "idOrganization")
            return board_record(await self.client.update_board(id, **params))
        if kind == "card":
            return await self._update_card(id, values, known or {})
        values.pop("idCard", None)  # a comment cannot move to another card
        text = _required(kind, values, "text")
        return comment_record(await self.client.edit_comment(id, text))

    async def _update_card(
        self, id: str, values: dict[str, Any], known: Mapping[str, Any]
    ) -> Record:
        """A card's board and list travel together: a card moving to another board keeps
        its list's name there, and a card changing list is placed on its own board; what
        the write does not name comes from ``known``, else from reading the card."""
        parts = wanted_parts(values)
        params = _for_put(values, "name", "desc", "closed", "due", "start", "dueComplete", "pos")
        target_board = values.get("idBoard")
        to_list: tuple[str, str] | None = None  # (board, list name)
        if "list" in values or (target_board and "idList" not in values):
            list_name = values.get("list") or known.get("list")
            board = target_board or known.get("idBoard")
            if list_name is None or board is None:
                # Moving to another board without a list keeps the list's name.
                current = await self._current_card(id)
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

    async def _current_card(self, id: str) -> Record:
        record = await self.get("card", id)
        if record is None:
            raise NotFoundError(f"Trello has no card {id} (any more)", system="trello", status=404)
        return record

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


def _without_renumbering(record: Record, known: Container[str]) -> Record:
    """A listed card the caller knows, without its ``pos``: Trello renumbers siblings'
    positions by itself (no action records it), so only an ``updateCard`` action may say
    that a person moved the card."""
    if record.id not in known or record.deleted or "pos" not in record.fields:
        return record
    fields = {k: v for k, v in record.fields.items() if k != "pos"}
    return dataclasses.replace(record, fields=fields, partial=True)


def _given(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named values that are set (``None`` means "leave Trello's default")."""
    return {name: values[name] for name in names if values.get(name) is not None}


def _for_put(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
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


def _required(kind: str, values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if value is None or value == "":
        raise InvalidValueError(
            f"a Trello {kind} needs {name!r} to be written", system="trello", field=name
        )
    return value


def _unknown_kind(kind: str) -> ConfigError:
    return ConfigError(f"Trello has no kind {kind!r}; use one of {', '.join(KINDS)}")
