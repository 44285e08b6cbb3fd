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
    """Links by flow, findable from either side's id.

    Read from the store as the cycle touches them — one query per id, then kept, absent ones
    too — so an idle cycle reads almost none however many links there are; ``links(flow)``
    reads a whole flow at once when a cycle needs all of it (a full read, the scope of a
    read). In a dry run nothing is written through: the index alone shows what the cycle
    would have done.
    """

    def __init__(self, store: Store, *, write_through: bool = True):
        self.store = store
        self.write_through = write_through
        # flow -> id -> link, or None: known to have none
        self._by_custompms: dict[str, dict[str, Link | None]] = {}
        self._by_trello: dict[str, dict[str, Link | None]] = {}
        self._complete: set[str] = set()
        self._changed: dict[str, set[str]] = {}  # custompms ids put or removed here (dry run)

    def load(self, flows: Iterable[str]) -> None:
        """Read every link of ``flows`` (and their anchors) now."""
        for flow in flows:
            self.links(flow)
            self.links(about_flow(flow))

    def _flow(self, flow: str) -> tuple[dict[str, Link | None], dict[str, Link | None]]:
        return self._by_custompms.setdefault(flow, {}), self._by_trello.setdefault(flow, {})

    def _keep(self, link: Link) -> None:
        by_c, by_t = self._flow(link.flow)
        by_c[link.custompms_id] = link
        by_t[link.trello_id] = link

    def get(self, flow: str, side: Side, id: str, tx: Any = None) -> Link | None:
        """The link of ``side``'s ``id`` in ``flow`` (read in ``tx`` when one is open)."""
        by_c, by_t = self._flow(flow)
        known = by_c if side == "custompms" else by_t
        if id in known:
            return known[id]
        if flow in self._complete:
            return None
        reader = tx or self.store
        if side == "custompms":
            link = reader.get_link(flow, custompms_id=id)
        else:
            link = reader.get_link(flow, trello_id=id)
        if link is None or link.custompms_id in self._changed.get(flow, ()):
            known[id] = None
            return None
        self._keep(link)
        return link

    def links(self, flow: str) -> list[Link]:
        if flow not in self._complete:
            changed = self._changed.get(flow, set())
            for link in self.store.links(flow):
                if link.custompms_id not in changed:
                    self._keep(link)
            self._complete.add(flow)
        return [link for link in self._flow(flow)[0].values() if link is not None]

    def count(self, flow: str) -> int:
        if flow in self._complete or self._changed.get(flow):
            return len(self.links(flow))
        return self.store.count_links(flow)

    def resolve(self, flow: str, via: str | None, side: Side, id: str) -> str | None:
        """The id on the other side of ``side``'s ``id`` in ``flow`` (or its about cards)."""
        link = self.get(about_flow(flow) if via == "about_card" else flow, side, id)
        if link is None:
            return None
        return link.trello_id if side == "custompms" else link.custompms_id

    def put(self, link: Link, tx: Any = None) -> Link:
        old = self.get(link.flow, "custompms", link.custompms_id, tx)
        if self.write_through:
            link = (tx or self.store).put_link(link)
        else:
            self._changed.setdefault(link.flow, set()).add(link.custompms_id)
        if old is not None and old.trello_id != link.trello_id:
            self._flow(link.flow)[1][old.trello_id] = None
        self._keep(link)
        return link

    def remove(self, flow: str, custompms_id: str, tx: Any = None) -> None:
        old = self.get(flow, "custompms", custompms_id, tx)
        if self.write_through:
            (tx or self.store).delete_link(flow, custompms_id)
        else:
            self._changed.setdefault(flow, set()).add(custompms_id)
        by_c, by_t = self._flow(flow)
        by_c[custompms_id] = None
        if old is not None:
            by_t[old.trello_id] = None
