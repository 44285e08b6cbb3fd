"""Action lists of a board, list or card: type filter, since/before, limit/page, newest first.

``since`` and ``before`` take an ISO date or an object id: an id compares as an id (ids sort
by creation), so ``since=<last seen action id>`` answers exactly the newer actions. Comment
edits and deletions (``updateComment``, ``deleteComment``) never appear here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pmbridge.sandbox.trello.answers import invalid_value
from pmbridge.sandbox.trello.ids import format_date, is_object_id, parse_date
from pmbridge.sandbox.trello.params import Params
from pmbridge.sandbox.trello.world import HIDDEN_FROM_FEEDS, World

MAX_LIMIT = 1000
CARD_DEFAULT_FILTER = "commentCard,updateCard:idList"
_FILTER_ITEM = re.compile(r"^[A-Za-z]+(?::[A-Za-z]+)?$")


@dataclass(frozen=True)
class Bound:
    """One end of a time window: an id or an ISO date (compared as the same kind)."""

    id: str | None = None
    date: str | None = None

    def before(self, action: dict) -> bool:
        """Whether ``action`` is older than this bound."""
        return action["id"] < self.id if self.id else action["date"] < (self.date or "")

    def after(self, action: dict) -> bool:
        return action["id"] > self.id if self.id else action["date"] > (self.date or "")


@dataclass(frozen=True)
class FeedQuery:
    types: tuple[tuple[str, str | None], ...] | None  # None: every type
    since: Bound | None
    before: Bound | None
    limit: int
    page: int
    id_models: frozenset[str] | None


def _bound(params: Params, name: str) -> Bound | None:
    value = params.raw(name)
    if value is None or value == "" or value == "lastView":
        return None
    text = str(value).strip()
    if is_object_id(text):
        return Bound(id=text.lower())
    moment = parse_date(text)
    if moment is None or text.isdigit():
        raise invalid_value(name)
    return Bound(date=format_date(moment))


def parse_feed_query(params: Params, *, default_filter: str = "all") -> FeedQuery:
    raw_filter = str(params.raw("filter", default_filter) or default_filter)
    items = [item.strip() for item in raw_filter.split(",") if item.strip()]
    types: tuple[tuple[str, str | None], ...] | None = None
    if "all" not in items:
        if not all(_FILTER_ITEM.match(item) for item in items):
            raise invalid_value("filter")
        types = tuple(
            (item.split(":")[0], item.split(":")[1] if ":" in item else None) for item in items
        )
    id_models = params.raw("idModels")
    return FeedQuery(
        types=types,
        since=_bound(params, "since"),
        before=_bound(params, "before"),
        limit=params.integer("limit", default=50, low=0, high=MAX_LIMIT),
        page=params.integer("page", default=0, low=0, high=1_000_000),
        id_models=frozenset(str(id_models).split(",")) if id_models else None,
    )


def _matches_type(action: dict, types: tuple[tuple[str, str | None], ...] | None) -> bool:
    if types is None:
        return True
    for action_type, field in types:
        if action["type"] != action_type:
            continue
        if field is None or field in action["data"].get("old", {}):
            return True
    return False


def feed(world: World, belongs: Callable[[dict], bool], query: FeedQuery) -> list[dict]:
    """The actions ``belongs`` accepts, filtered by ``query``, newest first, one page."""
    with world.lock:
        found = [
            action
            for action in world.actions.values()
            if action["type"] not in HIDDEN_FROM_FEEDS
            and belongs(action)
            and _matches_type(action, query.types)
            and (query.since is None or query.since.after(action))
            and (query.before is None or query.before.before(action))
            and (
                query.id_models is None
                or not query.id_models.isdisjoint(world.model_ids_of_action(action))
            )
        ]
    found.sort(key=lambda action: action["id"], reverse=True)
    start = query.page * query.limit
    return found[start : start + query.limit]


def _data_id(action: dict, key: str) -> str | None:
    value = action["data"].get(key)
    return value.get("id") if isinstance(value, dict) else None


def board_feed(world: World, board: dict, query: FeedQuery) -> list[dict]:
    return feed(world, lambda a: _data_id(a, "board") == board["id"], query)


def card_feed(world: World, card: dict, query: FeedQuery) -> list[dict]:
    return feed(world, lambda a: _data_id(a, "card") == card["id"], query)


def list_feed(world: World, lst: dict, query: FeedQuery) -> list[dict]:
    keys = ("list", "listBefore", "listAfter")
    return feed(world, lambda a: any(_data_id(a, k) == lst["id"] for k in keys), query)


def organization_feed(world: World, org: dict, query: FeedQuery) -> list[dict]:
    return feed(world, lambda a: org["id"] in world.model_ids_of_action(a), query)
