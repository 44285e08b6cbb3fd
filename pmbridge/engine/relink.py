"""Forgetting what went with an object that is made again.

An edit beats a deletion: when a person deletes a Trello object while its Custompms record
is edited, the record's counterpart is made again (a ``Create`` with ``relink``). Trello
deleted what hung under the old object with it — a card's comments; a board's cards, their
comments and its "About this project" card — and no feed says so: their links still name
objects that are gone, so nothing would ever make them again.

``forget_gone`` drops the old link and, in the same store transaction, every link below it
(recursively: a child flow's link whose parent, as last agreed, is a record whose link is
dropped; and the anchor link of a flow whose children hang on an about card). Each dropped
child's surviving record is filed as waiting (a dead letter, ``OP_WAIT``): the later flows
of the cycle read it again (``gather``'s leftovers; a targeted cycle leaves them to the next
periodic one) and make it under the new object, journaled like any create — or the next cycle
does, should the process die in between. The transaction means a crash leaves either the
old links or none of them, never half; the journal, that nothing is made twice.

Only the Trello side is made again this way: a deleted Custompms record is restored (the
same record, whose children its deletion did not touch).
"""

from __future__ import annotations

from collections import defaultdict

from pmbridge.engine.context import OP_WAIT, CycleContext
from pmbridge.engine.state import about_flow, base_of
from pmbridge.flows.models import Flow
from pmbridge.records import Side, other_side
from pmbridge.store import Link


def forget_gone(cycle: CycleContext, flow: Flow, link: Link, remade: Side) -> None:
    """Drop ``link`` of ``flow``, whose object on ``remade`` is gone and is about to be made
    again, with every link below it (see the module docstring)."""
    survivor = other_side(remade)
    drops: list[tuple[str, str]] = [(flow.name, link.custompms_id)]  # (flow, custompms id)
    waits: list[tuple[str, str, str]] = []  # (flow, surviving record id, reason)
    children = _children(cycle, flow.name)
    pending = [(flow, link.custompms_id)]
    while pending:
        parent_flow, parent_id = pending.pop()
        anchor = about_flow(parent_flow.name)
        for child_flow, by_parent in children.get(parent_flow.name, []):
            assert child_flow.parent is not None
            if child_flow.parent.via == "about_card" and remade == "trello":
                if cycle.index.get(anchor, "custompms", parent_id) is not None:
                    drops.append((anchor, parent_id))
            for child in by_parent.get(parent_id, []):
                drops.append((child_flow.name, child.custompms_id))
                own = child.custompms_id if survivor == "custompms" else child.trello_id
                reason = (
                    f"waiting: made again on {remade} under the new counterpart of "
                    f"{child_flow.parent.key} {parent_id}"
                )
                waits.append((child_flow.name, own, reason))
                pending.append((child_flow, child.custompms_id))
    drops = list(dict.fromkeys(drops))
    if cycle.dry_run:
        for name, custompms_id in drops:
            cycle.index.remove(name, custompms_id)
        # Nothing is filed in a dry run, but its plan shows what comes back.
        cycle.letters.update((name, remade, own, OP_WAIT) for name, own, _ in waits)
        return
    with cycle.store.transaction() as tx:
        for name, custompms_id in drops:
            cycle.index.remove(name, custompms_id, tx)
        for name, own, reason in waits:
            cycle.dead_letter(name, remade, own, OP_WAIT, reason, tx)


def _children(
    cycle: CycleContext, root: str
) -> dict[str, list[tuple[Flow, dict[str, list[Link]]]]]:
    """Per flow under ``root`` (itself included): its child flows, each with its links by
    the Custompms id of their parent as last agreed. Read before the transaction opens
    (a whole flow's links at once: objects are made again rarely)."""
    found: dict[str, list[tuple[Flow, dict[str, list[Link]]]]] = {}
    names = [root]
    while names:
        name = names.pop()
        if name in found:
            continue
        found[name] = []
        for child_flow in cycle.flow_file.flows:
            parent = child_flow.parent
            if parent is None or parent.flow != name:
                continue
            by_parent: dict[str, list[Link]] = defaultdict(list)
            for child in cycle.index.links(child_flow.name):
                value = base_of(child).custompms.get(parent.key)
                if value is not None:
                    by_parent[str(value)].append(child)
            found[name].append((child_flow, by_parent))
            names.append(child_flow.name)
    return found
