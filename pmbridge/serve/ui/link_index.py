"""The Links page's search index: every link's titles, in memory, kept up to date.

The store keeps a link's titles inside its JSON base, which no SQL index can search on both
databases. This index loads them once, then on each search reads only the links written
since its newest one (and reloads all when links were removed), so a search over 100,000
links is a scan of short lowercase strings, not of the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pmbridge.flows import FlowFile
from pmbridge.store import Link, Store

# Where each Trello kind opens on trello.com (comments open with their card, unknown here).
TRELLO_URL = {
    "card": "https://trello.com/c/{id}",
    "board": "https://trello.com/b/{id}",
    "organization": "https://trello.com/{id}",
}


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """One linked pair as the Links page shows it."""

    flow: str
    custompms_id: str
    trello_id: str
    custompms_title: str
    trello_title: str
    updated_at: datetime | None
    search: str  # both titles and both ids, lowercase


@dataclass(frozen=True)
class LinkPage:
    entries: list[LinkEntry]
    total: int
    page: int
    pages: int


def _title(base: Any, side: str, keys: list[str]) -> str:
    values = (base or {}).get(side) or {}
    for key in keys:
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:200]
    return ""


class LinkIndex:
    """Links by flow with their titles; ``search`` pages through the matches."""

    def __init__(self, store: Store, flow_file: FlowFile):
        self.store = store
        self._title_keys = {
            flow.name: [p.key for p in flow.properties if p.type in ("string", "text", "markdown")]
            for flow in flow_file.flows
        }
        self._entries: dict[tuple[str, str], LinkEntry] = {}
        self._per_flow: dict[str, tuple[int, datetime | None]] = {}
        self._newest: datetime | None = None
        self._ordered: list[LinkEntry] | None = None
        self._lock = threading.Lock()

    def _entry(self, link: Link) -> LinkEntry:
        keys = self._title_keys.get(link.flow, [])
        c_title = _title(link.base, "custompms", keys)
        t_title = _title(link.base, "trello", keys)
        search = " ".join((c_title, t_title, link.custompms_id, link.trello_id)).lower()
        return LinkEntry(
            link.flow, link.custompms_id, link.trello_id, c_title, t_title, link.updated_at, search
        )

    def refresh(self) -> None:
        """Take in the links written since the last refresh (all of them after a removal)."""
        with self._lock:
            if self.store.count_all_links() < len(self._entries):
                self._entries.clear()
                self._per_flow.clear()
                self._newest = None
            changed = False
            for link in self.store.links_changed_since(self._newest):
                key = (link.flow, link.custompms_id)
                entry = self._entry(link)
                if self._entries.get(key) == entry:
                    continue  # the newest link, read again (the query includes its time)
                changed = True
                count, newest = self._per_flow.get(link.flow, (0, None))
                if key not in self._entries:
                    count += 1
                self._entries[key] = entry
                if link.updated_at and (newest is None or link.updated_at > newest):
                    newest = link.updated_at
                self._per_flow[link.flow] = (count, newest)
                if link.updated_at and (self._newest is None or link.updated_at > self._newest):
                    self._newest = link.updated_at
            if changed or self._ordered is None:
                self._ordered = sorted(
                    self._entries.values(), key=lambda e: (e.flow, e.custompms_title.lower())
                )

    def summary(self) -> dict[str, tuple[int, datetime | None]]:
        """Per flow: how many links, and when one last changed."""
        self.refresh()
        return dict(self._per_flow)

    def search(
        self, text: str = "", *, flow: str | None = None, page: int = 1, per_page: int = 50
    ) -> LinkPage:
        """The ``page``-th page of links whose titles or ids contain ``text`` (any case)."""
        self.refresh()
        needle = text.strip().lower()
        assert self._ordered is not None
        matches = [
            e
            for e in self._ordered
            if (flow is None or e.flow == flow) and (not needle or needle in e.search)
        ]
        pages = max(1, -(-len(matches) // per_page))
        page = min(max(1, page), pages)
        start = (page - 1) * per_page
        return LinkPage(matches[start : start + per_page], len(matches), page, pages)


def trello_url(kind: str, trello_id: str) -> str | None:
    template = TRELLO_URL.get(kind)
    return template.format(id=trello_id) if template else None


def custompms_url(root: str, kind: str, custompms_id: str) -> str | None:
    return f"{root.rstrip('/')}/{kind}s/{custompms_id}" if root else None
