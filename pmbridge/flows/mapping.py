"""Apply one flow to records: records → canonical views, canonical values → write fields.

A *view* is what the merge compares: property key → canonical value, plus when each value
changed. ``FlowMapping`` knows the flow's properties, the backlink footer and how to
resolve references (through links the engine keeps); it knows nothing of HTTP or storage.

A property one of the systems does not have (``unsupported``: a Custompms 1.0 has no task
tags) is outside the mapping: in no view and in no write, so it is never merged, compared,
shown as a difference or written, on either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmbridge.flows.backlink import BacklinkFooter
from pmbridge.flows.models import Flow, Property
from pmbridge.flows.values import Resolve, Unmapped, UnmappedProperty, canonical, native
from pmbridge.records import Record, Side


@dataclass(frozen=True, slots=True)
class View:
    """Canonical values of one record, by property key, and when each changed.

    ``problems``: properties whose value has no counterpart (a person missing from the
    people map), with what to do; they are left out of ``values`` (or hold the base's
    value) and set aside, while the rest of the record syncs.
    """

    values: dict[str, Any]
    times: dict[str, datetime | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


class FlowMapping:
    """One flow's mapping between records and views."""

    def __init__(
        self,
        flow: Flow,
        resolve: Resolve,
        *,
        custompms_url: str = "",
        unsupported: frozenset[str] = frozenset(),
    ):
        """:param unsupported: keys of the flow's properties one of the systems lacks"""
        self.flow = flow
        self.resolve = resolve
        self.unsupported = unsupported
        self.properties = tuple(p for p in flow.properties if p.key not in unsupported)
        self.footer = BacklinkFooter(flow.backlink, custompms_url) if flow.backlink else None
        self.parent = flow.parent

    def kind(self, side: Side) -> str:
        return self.flow.custompms if side == "custompms" else self.flow.trello

    @staticmethod
    def name(prop: Property, side: Side) -> str:
        return prop.custompms if side == "custompms" else prop.trello

    def belongs(self, side: Side, record: Record) -> bool:
        """Whether a record of this flow's kind is this flow's (comments split by parent).

        A Custompms record belongs when its parent reference is set; a Trello record when
        its parent resolves through this flow's parent links (or the flow has no parent).
        A partial record without its parent field is judged by the caller's link.
        """
        if self.parent is None or record.deleted:
            return True
        parent_name = self.name(self.parent, side)
        if parent_name not in record.fields:
            return record.partial
        value = record.fields[parent_name]
        if value in (None, ""):
            return False
        if side == "custompms":
            return True
        assert self.parent.flow is not None
        return self.resolve(self.parent.flow, self.parent.via, "trello", str(value)) is not None

    def parent_id(self, side: Side, record: Record) -> str | None:
        """The native id of the record's parent on its own side, if it has one."""
        if self.parent is None:
            return None
        value = record.fields.get(self.name(self.parent, side))
        return None if value in (None, "") else str(value)

    def view(self, side: Side, record: Record, fallback: Mapping[str, Any] | None = None) -> View:
        """The canonical view of ``record``; keys missing from a partial record come from
        ``fallback`` (the side's base). Raises ``Unmapped`` (out of scope, or waiting)."""
        values: dict[str, Any] = {}
        times: dict[str, datetime | None] = {}
        problems: dict[str, str] = {}
        for prop in self.properties:
            name = self.name(prop, side)
            if name not in record.fields:
                if record.partial and fallback is not None and prop.key in fallback:
                    values[prop.key] = fallback[prop.key]
                    times[prop.key] = None
                    continue
                if record.partial or prop.type in ("set", "items"):
                    continue  # not read, or a system without it (a Custompms 1.0)
            raw = record.fields.get(name)
            if side == "trello" and self.footer and name == self.footer.spec.property:
                raw = self.footer.strip(raw or "")[0]
            try:
                values[prop.key] = canonical(prop, side, raw, self.resolve)
            except UnmappedProperty as err:
                problems[prop.key] = str(err)
                if fallback is not None and prop.key in fallback:
                    values[prop.key] = fallback[prop.key]
                continue
            times[prop.key] = record.changed_time(name)
        return View(values, times, problems)

    def footer_id(self, record: Record) -> str | None:
        """The Custompms id named by a Trello record's backlink footer, if any."""
        if self.footer is None:
            return None
        return self.footer.strip(record.fields.get(self.footer.spec.property) or "")[1]

    def write_fields(
        self, side: Side, values: Mapping[str, Any], *, custompms_id: str | None = None
    ) -> dict[str, Any]:
        """Native fields for writing canonical ``values`` to ``side``.

        Properties that do not write to ``side`` are left out. The backlink footer is added
        to its Trello property. Raises ``Unmapped`` when a value has no counterpart.
        """
        fields: dict[str, Any] = {}
        for prop in self.properties:
            if prop.key not in values or not prop.writes_to(side):
                continue
            name = self.name(prop, side)
            value = native(prop, side, values[prop.key], self.resolve)
            if side == "trello" and self.footer and name == self.footer.spec.property:
                value = self.footer.add(value, custompms_id or "")
            fields[name] = value
        return fields

    def with_footer(self, record_fields: Mapping[str, Any], custompms_id: str) -> dict[str, Any]:
        """Trello fields that add the footer to an object that lacks it (or names another)."""
        if self.footer is None:
            return {}
        prop_name = self.footer.spec.property
        current = record_fields.get(prop_name) or ""
        if self.footer.strip(current)[1] == custompms_id:
            return {}
        return {prop_name: self.footer.add(current, custompms_id)}

    def match_key(self, side: Side, view: View) -> tuple[Any, ...] | None:
        """The record's match key (normalised for comparison), or None when incomplete."""
        parts: list[Any] = []
        for key in self.flow.match:
            value = view.values.get(key.custompms)
            if value in (None, ""):
                return None
            parts.append(" ".join(str(value).split()).casefold())
        return tuple(parts) if parts else None


__all__ = ["FlowMapping", "Unmapped", "UnmappedProperty", "View"]
