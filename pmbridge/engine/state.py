"""The links of every flow, held in memory for a cycle and written through to the store.

References resolve through links many times per record (a card's board, a comment's card),
so the engine keeps them indexed both ways instead of asking the store each time. In a dry
run nothing is written through: the index alone shows what the cycle would have done.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pmbridge.engine.merge import Base
from pmbridge.records import Side
from pmbridge.store import Link, Store

ABOUT_CARD_SUFFIX = ".about_card"
# The id a dry run gives an object it only planned to create.
PLANNED = "(new "


def planned(id: str) -> bool:
    """Whether ``id`` stands for an object a dry run only planned to create."""
    return id.startswith(PLANNED)


def about_flow(flow: str) -> str:
    """The pseudo-flow whose links pair a record with its anchor (a project with its
    "About this project" card)."""
    return flow + ABOUT_CARD_SUFFIX


def base_of(link: Link) -> Base:
    raw: Any = link.base or {}
    return Base(dict(raw.get("custompms") or {}), dict(raw.get("trello") or {}))


def link_base(base: Base, **marks: Any) -> dict[str, Any]:
    """The JSON kept in ``Link.base``: both sides' bases plus marks (e.g. a deletion)."""
    data: dict[str, Any] = {"custompms": dict(base.custompms), "trello": dict(base.trello)}
    data.update({k: v for k, v in marks.items() if v is not None})
    return data


class LinkIndex:
    """Links by flow, findable from either side's id."""

    def __init__(self, store: Store, *, write_through: bool = True):
        self.store = store
        self.write_through = write_through
        self._by_custompms: dict[str, dict[str, Link]] = {}
        self._by_trello: dict[str, dict[str, Link]] = {}

    def load(self, flows: Iterable[str]) -> None:
        for flow in flows:
            for name in (flow, about_flow(flow)):
                links = self.store.links(name)
                self._by_custompms[name] = {link.custompms_id: link for link in links}
                self._by_trello[name] = {link.trello_id: link for link in links}

    def _flow(self, flow: str) -> tuple[dict[str, Link], dict[str, Link]]:
        return self._by_custompms.setdefault(flow, {}), self._by_trello.setdefault(flow, {})

    def get(self, flow: str, side: Side, id: str) -> Link | None:
        by_c, by_t = self._flow(flow)
        return (by_c if side == "custompms" else by_t).get(id)

    def links(self, flow: str) -> list[Link]:
        return list(self._flow(flow)[0].values())

    def count(self, flow: str) -> int:
        return len(self._flow(flow)[0])

    def resolve(self, flow: str, via: str | None, side: Side, id: str) -> str | None:
        """The id on the other side of ``side``'s ``id`` in ``flow`` (or its about cards)."""
        link = self.get(about_flow(flow) if via == "about_card" else flow, side, id)
        if link is None:
            return None
        return link.trello_id if side == "custompms" else link.custompms_id

    def put(self, link: Link, tx: Any = None) -> Link:
        if self.write_through:
            link = (tx or self.store).put_link(link)
        by_c, by_t = self._flow(link.flow)
        old = by_c.get(link.custompms_id)
        if old is not None and old.trello_id != link.trello_id:
            by_t.pop(old.trello_id, None)
        by_c[link.custompms_id] = link
        by_t[link.trello_id] = link
        return link

    def remove(self, flow: str, custompms_id: str, tx: Any = None) -> None:
        if self.write_through:
            (tx or self.store).delete_link(flow, custompms_id)
        by_c, by_t = self._flow(flow)
        old = by_c.pop(custompms_id, None)
        if old is not None:
            by_t.pop(old.trello_id, None)
