"""Set-wise and item-wise three-way merges: pure, no I/O.

A *set* (tags, assignees, links) is canonically a sorted list: of strings, or of objects
identified by one member (``key``, e.g. a link's ``url``). Each element merges on its own,
against each side's base, by the rules of ``merge.merge_property``:

    added on one side                  added on both (no conflict)
    removed on one side, untouched     removed on both
      on the other
    removed on one side, edited on     kept, with the edit (an edit beats a removal; no
      the other                          conflict)
    added or edited on both, to        a conflict over that element, settled by the policy
      different values                   (``manual`` leaves each side's element as it is)

So disjoint changes never conflict, and an element added on one side cannot be removed on
the other (it was not there). Strings cannot be edited, only added and removed.

An *item list* (a checklist) is an ordered list of ``{"id", "text", "done"}`` whose ids are
each system's own. The two sides' bases are aligned by index: item *i* of the Custompms base
and item *i* of the Trello base are the same item — that alignment is the per-link map of
Custompms item id ↔ Trello item id. An id not known yet (an item just written) is ``None``
in the base and is found again by its text. Per item: text and done merge by the usual rules,
an item added on either side is kept (added on both with the same text: one item), an item
removed on one side is removed unless edited on the other. Order: the side that reordered
its items gives the order (Custompms when both did); items added on the other side follow
the item they followed there.

Conflicts over elements or items come out as one conflict over the whole property, with
both sides' whole values (a checklist's without their ids), so that ``pmbridge conflicts
resolve`` can write either side's value to both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmbridge.engine.merge import ConflictNote, merge_property
from pmbridge.flows.models import ConflictPolicy


class _NoWrite:
    """Nothing to write to that side (``None`` could be a value)."""

    def __repr__(self) -> str:
        return "NO_WRITE"


NO_WRITE: Any = _NoWrite()


@dataclass(frozen=True, slots=True)
class CollectionDecision:
    """What to write to each side (``NO_WRITE``: nothing) and the new bases."""

    to_custompms: Any
    to_trello: Any
    base_custompms: Any
    base_trello: Any
    conflicts: tuple[ConflictNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Times:
    custompms: datetime | None = None
    trello: datetime | None = None


def _element_key(element: Any, key: str | None) -> Any:
    return element[key] if key is not None and isinstance(element, Mapping) else element


def _as_map(elements: Iterable[Any] | None, key: str | None) -> dict[Any, Any]:
    return {_element_key(e, key): e for e in elements or ()}


def _sorted(elements: Iterable[Any], key: str | None) -> list[Any]:
    return sorted(elements, key=lambda e: str(_element_key(e, key)))


def _merge_one(
    vc: Any,
    vt: Any,
    bc: Any,
    bt: Any,
    *,
    key: str,
    policy: ConflictPolicy,
    times: Times,
) -> tuple[Any, Any, Any, Any, ConflictNote | None]:
    """One element (``None`` = absent): (custompms value, trello value, bases, conflict)."""
    if vc is None and bc is not None and vt is not None and vt != bt:
        return vt, vt, vt, vt, None  # removed in Custompms, edited in Trello: kept
    if vt is None and bt is not None and vc is not None and vc != bc:
        return vc, vc, vc, vc, None  # removed in Trello, edited in Custompms: kept
    decision = merge_property(
        vc,
        vt,
        base_custompms=bc,
        base_trello=bt,
        key=key,
        policy=policy,
        custompms_changed_at=times.custompms,
        trello_changed_at=times.trello,
    )
    to_c = decision.value if decision.write_to in ("custompms", "both") else vc
    to_t = decision.value if decision.write_to in ("trello", "both") else vt
    return to_c, to_t, decision.base_custompms, decision.base_trello, decision.conflict


def merge_set(
    custompms: Iterable[Any] | None,
    trello: Iterable[Any] | None,
    *,
    base_custompms: Iterable[Any] | None = None,
    base_trello: Iterable[Any] | None = None,
    key: str = "",
    member: str | None = None,
    policy: ConflictPolicy = "newest_wins",
    times: Times = Times(),
) -> CollectionDecision:
    """Merge a set element by element (see the module docstring); ``member`` names what
    identifies an object element (``None`` for strings)."""
    c, t = _as_map(custompms, member), _as_map(trello, member)
    bc, bt = _as_map(base_custompms, member), _as_map(base_trello, member)
    out_c: list[Any] = []
    out_t: list[Any] = []
    new_bc: list[Any] = []
    new_bt: list[Any] = []
    notes: list[ConflictNote] = []
    for element in dict.fromkeys([*bc, *bt, *c, *t]):
        to_c, to_t, base_c, base_t, note = _merge_one(
            c.get(element),
            t.get(element),
            bc.get(element),
            bt.get(element),
            key=key,
            policy=policy,
            times=times,
        )
        for target, value in ((out_c, to_c), (out_t, to_t), (new_bc, base_c), (new_bt, base_t)):
            if value is not None:
                target.append(value)
        if note is not None:
            notes.append(note)
    merged_c, merged_t = _sorted(out_c, member), _sorted(out_t, member)
    current_c, current_t = _sorted(c.values(), member), _sorted(t.values(), member)
    return CollectionDecision(
        merged_c if merged_c != current_c else NO_WRITE,
        merged_t if merged_t != current_t else NO_WRITE,
        _sorted(new_bc, member),
        _sorted(new_bt, member),
        _one_note(notes, key, current_c, current_t, _sorted(bc.values(), member)),
    )


# -- item lists (checklists) --------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """One item of the merged list: each side's id, value and base value."""

    c_id: str | None = None
    t_id: str | None = None
    c: dict[str, Any] | None = None
    t: dict[str, Any] | None = None
    base_c: dict[str, Any] | None = None
    base_t: dict[str, Any] | None = None
    notes: list[ConflictNote] = field(default_factory=list)


def _content(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {"text": item.get("text") or "", "done": bool(item.get("done"))}


def _match(base: list[Mapping[str, Any]], current: list[Mapping[str, Any]]) -> list[Any]:
    """For each current item, the index of its base item, or None for an added one.

    An item is its base item when their ids are equal; a base item without an id (written
    but not read back yet) is the first unmatched item with no known id and the same text.
    """
    known = {item.get("id"): i for i, item in enumerate(base) if item.get("id") is not None}
    slots: list[Any] = [known.get(item.get("id")) if item.get("id") else None for item in current]
    taken = {s for s in slots if s is not None}
    for i, item in enumerate(base):
        if item.get("id") is not None or i in taken:
            continue
        for j, cur in enumerate(current):
            if (
                slots[j] is None
                and cur.get("id") not in known
                and cur.get("text") == item.get("text")
            ):
                slots[j] = i
                taken.add(i)
                break
    return slots


def merge_items(
    custompms: list[Mapping[str, Any]] | None,
    trello: list[Mapping[str, Any]] | None,
    *,
    base_custompms: list[Mapping[str, Any]] | None = None,
    base_trello: list[Mapping[str, Any]] | None = None,
    key: str = "",
    policy: ConflictPolicy = "newest_wins",
    times: Times = Times(),
) -> CollectionDecision:
    """Merge an item list by item identity (see the module docstring)."""
    c, t = list(custompms or []), list(trello or [])
    bc, bt = list(base_custompms or []), list(base_trello or [])
    if len(bc) != len(bt):  # bases out of step (never written together): start afresh
        bc, bt = [], []
    slot_c, slot_t = _match(bc, c), _match(bt, t)
    entries = [
        _Entry(bc[i].get("id"), bt[i].get("id"), base_c=_content(bc[i]), base_t=_content(bt[i]))
        for i in range(len(bc))
    ]
    for item, slot in zip(c, slot_c, strict=True):
        if slot is not None:
            entries[slot].c, entries[slot].c_id = _content(item), item.get("id")
    for item, slot in zip(t, slot_t, strict=True):
        if slot is not None:
            entries[slot].t, entries[slot].t_id = _content(item), item.get("id")
    kept = {i for i, entry in enumerate(entries) if _merge_entry(entry, key, policy, times)}
    added_c = _added(c, slot_c, "c")
    added_t = _added(t, slot_t, "t")
    _pair_same_text(added_c, added_t, key, policy, times)
    order_c = [s if s is not None else ("c", j) for j, s in enumerate(slot_c)]
    order_t = [s if s is not None else ("t", j) for j, s in enumerate(slot_t)]
    base_order = list(range(len(entries)))
    t_reordered = [s for s in order_t if s in kept] != [s for s in base_order if s in kept]
    c_reordered = [s for s in order_c if s in kept] != [s for s in base_order if s in kept]
    lead, follow = (order_t, order_c) if t_reordered and not c_reordered else (order_c, order_t)
    by_ref: dict[Any, _Entry] = {i: entries[i] for i in kept}
    by_ref.update({("c", j): e for j, e in added_c.items()})
    by_ref.update({("t", j): e for j, e in added_t.items() if e.c is not None})
    sequence = [ref for ref in lead if ref in by_ref]
    _insert_following(sequence, follow, by_ref)
    merged = [by_ref[ref] for ref in sequence]
    to_c = [{"id": e.c_id, **(e.c or {})} for e in merged]
    to_t = [{"id": e.t_id, **(e.t or {})} for e in merged]
    current_c = [{"id": i.get("id"), **(_content(i) or {})} for i in c]
    current_t = [{"id": i.get("id"), **(_content(i) or {})} for i in t]
    return CollectionDecision(
        to_c if to_c != current_c else NO_WRITE,
        to_t if to_t != current_t else NO_WRITE,
        [{"id": e.c_id, **(e.base_c or e.c or {})} for e in merged],
        [{"id": e.t_id, **(e.base_t or e.t or {})} for e in merged],
        _one_note(
            [note for e in merged for note in e.notes],
            key,
            item_texts(current_c),
            item_texts(current_t),
            item_texts(bc),
        ),
    )


def item_texts(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items without their ids (which differ between the systems)."""
    return [{"text": i.get("text") or "", "done": bool(i.get("done"))} for i in items]


def _one_note(
    notes: list[ConflictNote], key: str, custompms: Any, trello: Any, base: Any
) -> tuple[ConflictNote, ...]:
    """The conflicts over a set's elements (or a list's items) as one conflict over the
    property, with both sides' whole values, so that ``pmbridge conflicts resolve`` can
    write either side's value to both; the winner is the first element's."""
    if not notes:
        return ()
    first = notes[0]
    note = ConflictNote(
        key=key,
        base=base,
        custompms=custompms,
        trello=trello,
        custompms_changed_at=first.custompms_changed_at,
        trello_changed_at=first.trello_changed_at,
        policy=first.policy,
        winner=first.winner,
    )
    return (note,)


def _merge_entry(entry: _Entry, key: str, policy: ConflictPolicy, times: Times) -> bool:
    """Merge one base item in place; whether it is kept."""
    c, t, bc, bt = entry.c, entry.t, entry.base_c, entry.base_t
    if c is None and t is None:
        return False
    if c is None or t is None:
        survivor, base = (t, bt) if c is None else (c, bc)
        if survivor == base:
            return False  # removed on one side, untouched on the other
        entry.c = entry.t = entry.base_c = entry.base_t = dict(survivor or {})
        if c is None:
            entry.c_id = None  # brought back in Custompms as a new item
        else:
            entry.t_id = None
        return True
    _merge_members(entry, c, t, bc or {}, bt or {}, key, policy, times)
    return True


def _merge_members(
    entry: _Entry,
    c: dict[str, Any],
    t: dict[str, Any],
    bc: Mapping[str, Any],
    bt: Mapping[str, Any],
    key: str,
    policy: ConflictPolicy,
    times: Times,
) -> None:
    new_c, new_t, new_bc, new_bt = dict(c), dict(t), dict(bc), dict(bt)
    for member in ("text", "done"):
        to_c, to_t, base_c, base_t, note = _merge_one(
            c.get(member),
            t.get(member),
            bc.get(member),
            bt.get(member),
            key=f"{key}.{member}",
            policy=policy,
            times=times,
        )
        new_c[member], new_t[member], new_bc[member], new_bt[member] = to_c, to_t, base_c, base_t
        if note is not None:
            entry.notes.append(note)
    entry.c, entry.t, entry.base_c, entry.base_t = new_c, new_t, new_bc, new_bt


def _added(items: list[Mapping[str, Any]], slots: list[Any], side: str) -> dict[int, _Entry]:
    added: dict[int, _Entry] = {}
    for j, (item, slot) in enumerate(zip(items, slots, strict=True)):
        if slot is None:
            content = _content(item)
            if side == "c":
                added[j] = _Entry(c_id=item.get("id"), c=content, t=dict(content or {}))
            else:
                added[j] = _Entry(t_id=item.get("id"), t=content, c=dict(content or {}))
    return added


def _pair_same_text(
    added_c: dict[int, _Entry],
    added_t: dict[int, _Entry],
    key: str,
    policy: ConflictPolicy,
    times: Times,
) -> None:
    """An item added on both sides with the same text is one item (also what a lost
    answer leaves behind: the item written, its id never recorded)."""
    for entry_t in added_t.values():
        for entry_c in added_c.values():
            if (
                entry_c.t_id is None
                and entry_c.c
                and entry_t.t
                and (entry_c.c["text"] == entry_t.t["text"])
            ):
                _merge_members(entry_c, entry_c.c, entry_t.t, {}, {}, key, policy, times)
                entry_c.t_id = entry_t.t_id
                entry_t.c_id, entry_t.c = entry_c.c_id, None  # merged into entry_c
                break


def _insert_following(sequence: list[Any], follow: list[Any], by_ref: Mapping[Any, Any]) -> None:
    """Put the refs of ``follow`` missing from ``sequence`` after the item they follow (and
    after the other side's additions there)."""
    placed = set(sequence)
    theirs = set(follow)
    previous: Any = None
    for ref in follow:
        if ref in placed:
            previous = ref
            continue
        if ref not in by_ref:
            continue
        at = sequence.index(previous) + 1 if previous is not None else 0
        while at < len(sequence) and sequence[at] not in theirs:
            at += 1
        sequence.insert(at, ref)
        placed.add(ref)
        previous = ref
