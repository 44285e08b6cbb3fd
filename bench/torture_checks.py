"""What the torture benchmark checks after each ordeal, as a person would: both systems read
in full over their APIs, and the state store's links and conflict log.

``read_world`` takes the snapshot; ``check`` finds duplicates (the same name twice in one
container, two cards naming one task in their footer, one card linked to two tasks),
objects without a counterpart or with values that differ from it, linked cards without
their backlink footer, and edits that neither arrived nor are in the conflict log.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.people import PmsUser, TrelloUser
from pmbridge.flows.backlink import BacklinkFooter
from pmbridge.flows.models import Backlink
from pmbridge.store import open_store

ABOUT_CARD = "About this project"
STATUS_LISTS = {"todo": "To Do", "in_progress": "Doing", "done": "Done"}
FOOTER = BacklinkFooter(Backlink(property="desc", text="Custompms task {id}", url=""))
SHOWN = 10  # problems listed by name per kind; the counts are complete


@dataclass(frozen=True)
class Edit:
    """A person's edit: ``side`` "custompms" (a task's ``field``) or "trello" (a card's)."""

    side: str
    id: str
    field: str
    value: str


@dataclass
class World:
    """Both systems read in full, and the store's links (flow → custompms id → trello id)."""

    pms: dict[str, list[dict[str, Any]]]
    orgs: list[dict[str, Any]]
    boards: list[dict[str, Any]]
    lists: dict[str, dict[str, Any]]
    cards: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    links: dict[str, dict[str, str]]
    conflicts: list[Any]


@dataclass
class Findings:
    """Problems found, by kind; a kind's count is ``len`` of its list."""

    duplicates: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)
    unequal: list[str] = field(default_factory=list)
    missing_footers: list[str] = field(default_factory=list)
    lost_edits: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            name: {"count": len(found), "first": found[:SHOWN]}
            for name, found in vars(self).items()
        }

    @property
    def clean(self) -> bool:
        return not any(vars(self).values())


def read_world(pms: PmsUser, trello: TrelloUser, database_url: str) -> World:
    pms_side = {r: pms.all(r) for r in ("customers", "projects", "tasks", "comments")}
    orgs = trello.call("GET", "/members/me/organizations", fields="id,displayName")
    boards = [
        board
        for org in orgs
        for board in trello.call(
            "GET",
            f"/organizations/{org['id']}/boards",
            filter="all",
            fields="id,name,idOrganization,closed",
        )
    ]
    lists: dict[str, dict[str, Any]] = {}
    cards: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    for board in boards:
        for lst in trello.call("GET", f"/boards/{board['id']}/lists", filter="all"):
            lists[lst["id"]] = lst
        cards += trello.call("GET", f"/boards/{board['id']}/cards/all")
        comments += trello.comments(board["id"])
    with open_store(database_url) as store:
        links = {
            flow: {link.custompms_id: link.trello_id for link in store.links(flow)}
            for flow in ("customers", "projects", "tasks", "project_comments", "task_comments")
        }
        conflicts = store.conflicts()
    return World(pms_side, orgs, boards, lists, cards, comments, links, conflicts)


def _twice(label: str, keys: Iterable[Any]) -> list[str]:
    return [f"{label} {key!r} ×{n}" for key, n in collections.Counter(keys).items() if n > 1]


def duplicates(world: World) -> list[str]:
    live = {r: [x for x in rows if not x.get("archived")] for r, rows in world.pms.items()}
    open_lists = [lst for lst in world.lists.values() if not lst.get("closed")]
    open_cards = [card for card in world.cards if not card.get("closed")]
    footers = [FOOTER.strip(card.get("desc") or "")[1] for card in world.cards]
    linked_twice = [
        f"{flow}: Trello {trello_id} linked ×{n}"
        for flow, pairs in world.links.items()
        for trello_id, n in collections.Counter(pairs.values()).items()
        if n > 1
    ]
    return [
        *_twice("customer", (c["name"] for c in live["customers"])),
        *_twice("project", ((p["customer_id"], p["name"]) for p in live["projects"])),
        *_twice("task", ((t["project_id"], t["title"]) for t in live["tasks"])),
        *_twice("comment", ((c["task_id"], c["text"]) for c in live["comments"])),
        *_twice("workspace", (o["displayName"] for o in world.orgs)),
        *_twice("board", ((b["idOrganization"], b["name"]) for b in world.boards)),
        *_twice("list", ((lst["idBoard"], lst["name"]) for lst in open_lists)),
        *_twice("card", ((c["idBoard"], c["name"]) for c in open_cards)),
        *_twice("footer naming task", (f for f in footers if f)),
        *_twice(
            "card comment", ((a["data"]["card"]["id"], a["data"]["text"]) for a in world.comments)
        ),
        *linked_twice,
    ]


def compare(world: World, found: Findings) -> None:
    """Counterparts and their values, both ways; footers on linked cards."""
    orgs = {o["id"]: o for o in world.orgs}
    boards = {b["id"]: b for b in world.boards}
    cards = {c["id"]: c for c in world.cards}
    links = world.links

    def pair(flow: str, record: dict[str, Any], there: dict[str, dict[str, Any]]) -> Any:
        other = there.get(links[flow].get(record["id"], ""))
        if other is None:
            found.unpaired.append(f"{flow}: Custompms {record['id']} has no counterpart")
        return other

    def same(what: str, mine: Any, theirs: Any) -> None:
        if mine != theirs:
            found.unequal.append(f"{what}: Custompms {mine!r} ≠ Trello {theirs!r}")

    for customer in world.pms["customers"]:
        if (org := pair("customers", customer, orgs)) is not None:
            same(f"customer {customer['id']} name", customer["name"], org["displayName"])
    for project in world.pms["projects"]:
        if (board := pair("projects", project, boards)) is not None:
            same(f"project {project['id']} name", project["name"], board["name"])
            same(f"project {project['id']} archived", project["archived"], board["closed"])
    for task in world.pms["tasks"]:
        if (card := pair("tasks", task, cards)) is None:
            continue
        what = f"task {task['id']}"
        desc, named = FOOTER.strip(card.get("desc") or "")
        same(f"{what} title", task["title"], card["name"])
        same(f"{what} description", task["description"].rstrip(), desc.rstrip())
        same(f"{what} archived", task["archived"], card["closed"])
        list_name = world.lists.get(card["idList"], {}).get("name")
        same(f"{what} status", STATUS_LISTS.get(task["status"]), list_name)
        same(f"{what} project", links["projects"].get(task["project_id"]), card["idBoard"])
        if named != task["id"]:
            found.missing_footers.append(
                f"card {card['id']} {card['name']!r} of {what}: its footer names {named!r}"
            )
    text_on = collections.Counter(
        (a["data"]["card"]["id"], a["data"]["text"]) for a in world.comments
    )
    for comment in world.pms["comments"]:
        if comment.get("task_id") is None:
            continue
        card_id = links["tasks"].get(comment["task_id"])
        if comment["id"] not in links["task_comments"] or not text_on[(card_id, comment["text"])]:
            found.unpaired.append(f"comment {comment['id']} is not on Trello")
    # The other way: every card and comment on Trello belongs to a linked record.
    linked_cards = set(links["tasks"].values())
    for card in world.cards:
        if card["name"] != ABOUT_CARD and not card["closed"] and card["id"] not in linked_cards:
            found.unpaired.append(f"card {card['id']} {card['name']!r} has no task")
    linked_comments = set(links["task_comments"].values()) | set(links["project_comments"].values())
    for action in world.comments:
        if action["id"] not in linked_comments:
            found.unpaired.append(f"Trello comment {action['id']} has no Custompms comment")
    for org in world.orgs:
        if org["id"] not in set(links["customers"].values()):
            found.unpaired.append(f"workspace {org['displayName']!r} has no customer")
    for board in world.boards:
        if board["id"] not in set(links["projects"].values()):
            found.unpaired.append(f"board {board['name']!r} has no project")


def lost_edits(world: World, edits: Iterable[Edit]) -> list[str]:
    """Edits whose value is neither on both sides nor in the conflict log."""
    tasks = {t["id"]: t for t in world.pms["tasks"]}
    cards = {c["id"]: c for c in world.cards}
    task_of = {card: task for task, card in world.links["tasks"].items()}
    lost = []
    latest: set[tuple[str, str | None, str]] = set()
    for edit in reversed(list(edits)):
        task_id = edit.id if edit.side == "custompms" else task_of.get(edit.id)
        if (edit.side, task_id, edit.field) in latest:
            continue  # the same person's later edit of the same property replaced it
        latest.add((edit.side, task_id, edit.field))
        task = tasks.get(task_id or "")
        card = cards.get(world.links["tasks"].get(task_id or "", ""))
        if task is None or card is None:
            lost.append(f"{edit}: the task or its card is gone")
            continue
        on_pms = {
            "title": task["title"],
            "description": task["description"].rstrip(),
            "status": STATUS_LISTS.get(task["status"]),
        }
        on_trello = {
            "title": card["name"],
            "description": FOOTER.strip(card.get("desc") or "")[0].rstrip(),
            "status": world.lists.get(card["idList"], {}).get("name"),
        }
        value = STATUS_LISTS.get(edit.value, edit.value) if edit.field == "status" else edit.value
        if on_pms[edit.field] == value == on_trello[edit.field]:
            continue
        # A status is logged as the status or as the list's name.
        forms = {edit.value, value, *(s for s, n in STATUS_LISTS.items() if n == edit.value)}
        logged = any(
            conflict.custompms_id == task_id
            and forms & {str(conflict.custompms_value), str(conflict.trello_value)}
            for conflict in world.conflicts
        )
        if not logged:
            lost.append(
                f"{edit}: Custompms has {on_pms[edit.field]!r}, Trello {on_trello[edit.field]!r}"
            )
    return lost


def check(world: World, edits: Iterable[Edit] = ()) -> Findings:
    found = Findings(duplicates=duplicates(world))
    compare(world, found)
    found.lost_edits = lost_edits(world, edits)
    return found
