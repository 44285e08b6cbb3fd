"""The edits people make between two cycles, and the check that every one arrived.

``plan`` picks k edits on each side — title, description and status changes and new
comments, in turn — on 2k distinct tasks (so no two edits conflict), spread over the boards.
``apply`` makes them through each system's API; ``missing`` reads the other side afterwards
and lists the edits that did not arrive. Tasks and cards are paired once, by their seeded
titles, before any edit (``pair_tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.people import PmsUser, TrelloUser

LIST_OF_STATUS = {"todo": "To Do", "in_progress": "Doing", "done": "Done"}
STATUS_OF_LIST = {name: status for status, name in LIST_OF_STATUS.items()}
STATUSES = tuple(LIST_OF_STATUS)
WHATS = ("title", "description", "status", "comment")
SIDES = ("custompms", "trello")


@dataclass(frozen=True)
class Pair:
    """A task and the card it is synced with."""

    task_id: str
    card_id: str
    board_id: str


@dataclass(frozen=True)
class Edit:
    """One edit: made on ``side`` to the task or card of ``pair``.

    :param what: "title", "description", "status" or "comment"
    :param value: the new text; for "status", the new Custompms status
    """

    side: str
    what: str
    pair: Pair
    value: str


def pair_tasks(pms: PmsUser, trello: TrelloUser) -> list[Pair]:
    """Every task with its card, matched by title, in seeding order."""
    tasks = {task["title"]: task["id"] for task in pms.all("tasks")}
    pairs: dict[str, Pair] = {}
    for board in trello.boards():
        for card in trello.cards(board["id"]):
            if card["name"] in tasks:
                pairs[card["name"]] = Pair(tasks[card["name"]], card["id"], board["id"])
    return [pairs[title] for title in sorted(pairs, key=lambda t: int(t.split()[-1]))]


def ensure_lists(trello: TrelloUser, boards: list[str]) -> dict[str, dict[str, str]]:
    """Make sure every board has a list per status (a person sets a board up so); returns
    each board's lists, name → id."""
    lists: dict[str, dict[str, str]] = {}
    for board in boards:
        found = trello.lists(board)
        for name in LIST_OF_STATUS.values():
            if name not in found:
                made = trello.call("POST", "/lists", name=name, idBoard=board, pos="bottom")
                found[name] = made["id"]
        lists[board] = found
    return lists


def plan(pairs: list[Pair], k: int, label: str) -> list[Edit]:
    """``k`` edits on each side, on 2k distinct tasks; ``label`` keeps new texts unique."""
    if 2 * k > len(pairs):
        raise ValueError(f"{k} edits on each side need {2 * k} tasks; there are {len(pairs)}")
    edits = []
    for i in range(k):
        what = WHATS[i % len(WHATS)]
        for s, side in enumerate(SIDES):
            # Consecutive tasks sit on consecutive boards: each side's edits go round them all.
            pair = pairs[i + s * k]
            edits.append(Edit(side, what, pair, f"{what} {label}-{i} made on {side}"))
    return edits


def apply(
    edits: list[Edit], pms: PmsUser, trello: TrelloUser, lists: dict[str, dict[str, str]]
) -> list[Edit]:
    """Make the edits; returns them with status edits' ``value`` set to the new status."""
    made = []
    for edit in edits:
        pair = edit.pair
        if edit.side == "custompms":
            if edit.what == "title":
                pms.update("tasks", pair.task_id, title=edit.value)
            elif edit.what == "description":
                pms.update("tasks", pair.task_id, description=edit.value)
            elif edit.what == "status":
                current = pms.get("tasks", pair.task_id)["status"]
                status = STATUSES[(STATUSES.index(current) + 1) % len(STATUSES)]
                pms.update("tasks", pair.task_id, status=status)
                edit = Edit(edit.side, edit.what, pair, status)
            else:
                pms.create("comments", task_id=pair.task_id, author="Bench", text=edit.value)
        else:
            card = f"/cards/{pair.card_id}"
            if edit.what == "title":
                trello.call("PUT", card, name=edit.value)
            elif edit.what == "description":
                # A person edits the text and leaves what follows it (pmbridge's backlink).
                desc = trello.call("GET", card, fields="desc")["desc"]
                rest = desc.split("\n", 1)[1] if "\n" in desc else ""
                trello.call("PUT", card, desc=edit.value + ("\n" + rest if rest else ""))
            elif edit.what == "status":
                id_list = trello.call("GET", card, fields="idList")["idList"]
                names = {i: n for n, i in lists[pair.board_id].items()}
                current = STATUS_OF_LIST.get(names.get(id_list, ""), "todo")
                status = STATUSES[(STATUSES.index(current) + 1) % len(STATUSES)]
                trello.call("PUT", card, idList=lists[pair.board_id][LIST_OF_STATUS[status]])
                edit = Edit(edit.side, edit.what, pair, status)
            else:
                trello.call("POST", f"{card}/actions/comments", text=edit.value)
        made.append(edit)
    return made


def missing(edits: list[Edit], pms: PmsUser, trello: TrelloUser) -> list[str]:
    """The edits that did not reach the other side, described."""
    misses = []
    pms_comments: set[tuple[str, str]] | None = None
    for edit in edits:
        pair = edit.pair
        if edit.side == "custompms":
            card = trello.call("GET", f"/cards/{pair.card_id}", fields="name,desc,idList")
            if edit.what == "title":
                found = card["name"]
            elif edit.what == "description":
                found = card["desc"].split("\n", 1)[0]
            elif edit.what == "status":
                name = trello.call("GET", f"/lists/{card['idList']}", fields="name")["name"]
                found = STATUS_OF_LIST.get(name, name)
            else:
                texts = [
                    a["data"]["text"]
                    for a in trello.call(
                        "GET", f"/cards/{pair.card_id}/actions", filter="commentCard", limit=1000
                    )
                ]
                found = edit.value if edit.value in texts else f"not among {len(texts)} comments"
        else:
            task = pms.get("tasks", pair.task_id)
            if edit.what == "title":
                found = task["title"]
            elif edit.what == "description":
                found = (task["description"] or "").split("\n", 1)[0]
            elif edit.what == "status":
                found = task["status"]
            else:
                if pms_comments is None:
                    pms_comments = {(c["task_id"], c["text"]) for c in pms.all("comments")}
                arrived = (pair.task_id, edit.value) in pms_comments
                found = edit.value if arrived else "no such comment"
        if found != edit.value:
            misses.append(
                f"{edit.what} made on {edit.side}: wanted {edit.value!r}, found {found!r}"
            )
    return misses
