"""The in-memory state of the Trello sandbox, and the actions it records.

``World`` holds members, organizations, boards, lists, cards and actions as plain dicts
(the shapes ``render.py`` turns into Trello's JSON), finds them by id, shortLink or name the
way Trello's paths do, and records an action for every change. The changes themselves live
in one module per object (``organizations.py``, ``boards.py``, ``lists.py``, ``cards.py``,
``comments.py``); each runs inside ``World.transaction()``, which serialises changes and,
once the change is complete, hands every recorded action to the action listeners (webhooks)
and bumps ``revision`` (persistence).

For webhooks: ``add_action_listener``, ``model_json``, ``model_ids_of_action``; for auth:
``member_by_token``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pmbridge.sandbox.trello import render, render_actions
from pmbridge.sandbox.trello.answers import (
    MODEL_NOT_FOUND,
    NOT_FOUND,
    invalid_id,
    not_found,
)
from pmbridge.sandbox.trello.ids import (
    IdFactory,
    format_timestamp,
    is_object_id,
    is_short_link,
    new_short_link,
)
from pmbridge.sandbox.trello.render import Member

if TYPE_CHECKING:
    from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig

__all__ = ["HIDDEN_FROM_FEEDS", "TABLES", "Member", "World"]

log = logging.getLogger(__name__)

ActionListener = Callable[[dict], None]

# Action types only webhooks and GET /actions/{id} see (TRELLO_API.md §6-§7).
HIDDEN_FROM_FEEDS = frozenset({"updateComment", "deleteComment", "updateCheckItem"})

# The object tables, by attribute name; each maps an id to its stored dict.
TABLES = (
    "organizations", "boards", "lists", "cards", "actions", "labels", "checklists",
    "attachments", "custom_fields",
)  # fmt: skip

_COMMENT_LIMITS = {
    "reactions": {
        "perAction": {"status": "ok", "disableAt": 900, "warnAt": 720},
        "uniquePerAction": {"status": "ok", "disableAt": 17, "warnAt": 14},
    }
}


class World:
    """Everything the sandbox knows; thread-safe."""

    def __init__(
        self, members: Iterable[MemberConfig] = (), *, clock: Callable[[], float] = time.time
    ):
        self._lock = threading.RLock()
        self._depth = 0
        self._pending: list[dict] = []
        self._listeners: list[ActionListener] = []
        self.clock = clock
        self.ids = IdFactory()
        self.revision = 0
        self.members: dict[str, Member] = {}
        self._tokens: dict[str, str] = {}
        self.token_ids: dict[str, str] = {}
        self.organizations: dict[str, dict] = {}
        self.boards: dict[str, dict] = {}
        self.lists: dict[str, dict] = {}
        self.cards: dict[str, dict] = {}
        self.actions: dict[str, dict] = {}
        self.labels: dict[str, dict] = {}
        self.checklists: dict[str, dict] = {}
        self.attachments: dict[str, dict] = {}
        self.custom_fields: dict[str, dict] = {}
        self.next_id_short: dict[str, int] = {}
        self._short_links: dict[str, str] = {}
        self._comment_counts: Counter[str] = Counter()
        for member in members:
            self.add_member(
                member.username, member.full_name, member.token or "", member_id=member.id
            )

    @classmethod
    def from_config(cls, config: SandboxConfig) -> World:
        return cls(config.members)

    # --- members -------------------------------------------------------------------------

    def add_member(
        self, username: str, full_name: str, token: str, *, member_id: str | None = None
    ) -> Member:
        with self._lock:
            if any(m.username == username for m in self.members.values()):
                raise ValueError(f"a member named {username!r} exists already")
            member = Member(
                id=member_id or self.ids.new_id(self.clock()),
                username=username,
                full_name=full_name,
                token=token,
            )
            self.members[member.id] = member
            if token:
                self._tokens[token] = member.id
                self.token_ids[token] = self.ids.new_id(self.clock())
            return member

    def revoke_token(self, token: str) -> None:
        """``DELETE /tokens/{token}``: the token no longer authenticates."""
        with self._lock:
            self._tokens.pop(token, None)
            self.token_ids.pop(token, None)

    def token_json(self, token: str) -> dict:
        with self._lock:
            return render.token_json(self.token_ids[token], self._tokens[token])

    def member_by_token(self, token: str) -> Member | None:
        with self._lock:
            member_id = self._tokens.get(token)
            return self.members.get(member_id) if member_id else None

    def find_member(self, id_or_username: str, me: Member) -> Member:
        """``me``, an id or a username, as in ``/members/{idMember}``."""
        if id_or_username == "me":
            return me
        with self._lock:
            if id_or_username in self.members:
                return self.members[id_or_username]
            for member in self.members.values():
                if member.username == id_or_username:
                    return member
        raise not_found()

    def member_json(self, member: Member) -> dict:
        with self._lock:
            id_boards = [b["id"] for b in self.boards.values() if member.id in b["memberships"]]
            id_orgs = [
                o["id"] for o in self.organizations.values() if member.id in o["memberships"]
            ]
            return render.member_json(member, id_boards=id_boards, id_orgs=id_orgs)

    # --- lookups (path ids as Trello reads them) -----------------------------------------

    def find_organization(self, id_or_name: str) -> dict:
        with self._lock:
            if is_object_id(id_or_name):
                found = self.organizations.get(id_or_name.lower())
                if found:
                    return found
            for org in self.organizations.values():
                if org["name"] == id_or_name:
                    return org
        raise not_found()

    def find_board(self, id_or_short_link: str) -> dict:
        return self._find_linked(self.boards, id_or_short_link)

    def find_card(self, id_or_short_link: str) -> dict:
        return self._find_linked(self.cards, id_or_short_link)

    def find_list(self, list_id: str) -> dict:
        return self.find_in(self.lists, list_id)

    def find_action(self, action_id: str) -> dict:
        return self.find_in(self.actions, action_id, MODEL_NOT_FOUND)

    def find_in(self, table: dict[str, dict], object_id: str, missing: str = NOT_FOUND) -> dict:
        """The object with this path id: 400 ``invalid id`` if malformed, 404 if absent."""
        if not is_object_id(object_id):
            raise invalid_id()
        with self._lock:
            found = table.get(object_id.lower())
        if found is None:
            raise not_found(missing)
        return found

    def _find_linked(self, table: dict[str, dict], key: str) -> dict:
        with self._lock:
            if is_object_id(key):
                found = table.get(key.lower())
            elif is_short_link(key):
                found = table.get(self._short_links.get(key, ""))
            else:
                raise invalid_id()
        if found is None:
            raise not_found()
        return found

    def register_short_link(self, short_link: str, object_id: str) -> None:
        self._short_links[short_link] = object_id

    def forget_short_link(self, short_link: str) -> None:
        self._short_links.pop(short_link, None)

    def new_short_link(self) -> str:
        while True:
            link = new_short_link()
            if link not in self._short_links:
                return link

    # --- JSON of objects -----------------------------------------------------------------

    def organization_json(self, org: dict) -> dict:
        with self._lock:
            id_boards = [b["id"] for b in self.boards.values() if b["idOrganization"] == org["id"]]
            return render.organization_json(org, id_boards=id_boards)

    def board_json(self, board: dict) -> dict:
        return render.board_json(board)

    def list_json(self, lst: dict) -> dict:
        with self._lock:
            board = self.boards.get(lst["idBoard"])
            return render.list_json(lst, id_organization=board and board["idOrganization"])

    def card_json(self, card: dict) -> dict:
        with self._lock:
            parts = render.CardParts(
                comments=self._comment_counts[card["id"]],
                labels=[self.labels[i] for i in card.get("idLabels", ()) if i in self.labels],
                checklists=[self.checklists[i] for i in card.get("idChecklists", ())],
                attachments=len(card.get("idAttachments", ())),
            )
            return render.card_json(card, parts)

    def action_json(self, action: dict, **options: Any) -> dict:
        """The action as ``GET /1/actions/{id}`` answers it."""
        with self._lock:
            creator = self.members.get(action["idMemberCreator"])
            return render_actions.action_json(action, creator, **options)

    def model_json(self, model_id: str) -> dict | None:
        """The current JSON of the board, card, list, organization or member with this id,
        as Trello's GET of it (default fields) would answer; None if there is none."""
        with self._lock:
            if model_id in self.boards:
                return render.select(self.board_json(self.boards[model_id]), render.BOARD_DEFAULT)
            if model_id in self.cards:
                return render.select(self.card_json(self.cards[model_id]), render.CARD_DEFAULT)
            if model_id in self.lists:
                return render.select(self.list_json(self.lists[model_id]), render.LIST_STANDARD)
            if model_id in self.organizations:
                return self.organization_json(self.organizations[model_id])
            if model_id in self.members:
                return self.member_json(self.members[model_id])
            return None

    def model_ids_of_action(self, action: dict) -> list[str]:
        """Every model an action involves — its board(s), list(s), card, organization, the
        member it adds or removes and its creator — so a webhook on any of them sees it."""
        data = action.get("data", {})
        ids: list[str] = []
        for key in ("board", "boardSource", "boardTarget", "list", "listBefore", "listAfter"):
            if isinstance(data.get(key), dict) and data[key].get("id"):
                ids.append(data[key]["id"])
        if isinstance(data.get("card"), dict) and data["card"].get("id"):
            ids.append(data["card"]["id"])
        if isinstance(data.get("organization"), dict) and data["organization"].get("id"):
            ids.append(data["organization"]["id"])
        with self._lock:
            for key in ("board", "boardSource", "boardTarget"):
                board = self.boards.get((data.get(key) or {}).get("id", ""))
                if board and board["idOrganization"]:
                    ids.append(board["idOrganization"])
        for key in ("idMember", "idMemberAdded"):
            if isinstance(data.get(key), str):
                ids.append(data[key])
        if action.get("idMemberCreator"):
            ids.append(action["idMemberCreator"])
        return list(dict.fromkeys(ids))

    # --- changes and actions -------------------------------------------------------------

    def add_action_listener(self, listener: ActionListener) -> None:
        """Call ``listener(action_json)`` for every action recorded from now on."""
        with self._lock:
            self._listeners.append(listener)

    def remove_action_listener(self, listener: ActionListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serialise a change; when the outermost one ends, tell the listeners."""
        emitted: list[dict] = []
        outermost = False
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    outermost = True
                    emitted, self._pending = self._pending, []
                    self.revision += 1
                    listeners = list(self._listeners)
        if outermost:
            for action in emitted:
                for listener in listeners:
                    try:
                        listener(action)
                    except Exception:
                        log.exception("an action listener failed on action %s", action["id"])

    def record(self, actor: Member, action_type: str, data: dict, now: float) -> dict:
        """Record an action (inside a transaction) and return its stored form."""
        action = {
            "id": self.ids.new_id(now),
            "idMemberCreator": actor.id,
            "type": action_type,
            "date": format_timestamp(now),
            "data": data,
            "limits": dict(_COMMENT_LIMITS) if action_type == "commentCard" else {},
        }
        self.actions[action["id"]] = action
        if action_type == "commentCard":
            self._comment_counts[data["card"]["id"]] += 1
        self._pending.append(render_actions.action_json(action, actor))
        return action

    def drop_action(self, action_id: str) -> None:
        action = self.actions.pop(action_id, None)
        if action and action["type"] == "commentCard":
            self._comment_counts[action["data"]["card"]["id"]] -= 1

    def now(self) -> float:
        return self.clock()

    @staticmethod
    def timestamp(now: float) -> str:
        return format_timestamp(now)

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several objects consistently (changes use ``transaction``)."""
        return self._lock

    # --- stubs actions carry -------------------------------------------------------------

    @staticmethod
    def board_stub(board: dict) -> dict:
        return {"id": board["id"], "name": board["name"], "shortLink": board["shortLink"]}

    @staticmethod
    def list_stub(lst: dict) -> dict:
        return {"id": lst["id"], "name": lst["name"]}

    @staticmethod
    def card_stub(card: dict) -> dict:
        return {
            "id": card["id"],
            "name": card["name"],
            "idShort": card["idShort"],
            "shortLink": card["shortLink"],
        }

    @staticmethod
    def organization_stub(org: dict) -> dict:
        return {"id": org["id"], "name": org["displayName"]}

    def reindex(self) -> None:
        """Rebuild what is derived from the tables (after loading saved state)."""
        with self._lock:
            for table in TABLES:
                for object_id in getattr(self, table):
                    self.ids.observe(object_id)
            for item in (*self.boards.values(), *self.cards.values()):
                self.register_short_link(item["shortLink"], item["id"])
            self._comment_counts.clear()
            for action in self.actions.values():
                if action["type"] == "commentCard":
                    self._comment_counts[action["data"]["card"]["id"]] += 1
