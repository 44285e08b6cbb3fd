"""The people of ``bench.serve``: a seeded script of edits at random times, made over HTTP
on either side, and a watcher that sees each edit arrive on the other side.

The script (``script``) is the same for every strategy of a run: it names tasks by their
seeded index, not by id. People make edits through each system's API (a second Trello
member with its own token, as a colleague would; Custompms with its token) and count their
own requests, so the benchmark can take them out of the server-side counts. What a person
looks at before an edit (a card's text or list) and whether an edit arrived is read from
the sandboxes' own state in-process: it costs no request and is not counted.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from bench.edits import LIST_OF_STATUS, STATUS_OF_LIST, STATUSES, Pair
from bench.sandboxes import CUSTOMPMS_TOKEN, Sandboxes, oauth_header
from pmbridge.sandbox.custompms.resources import RESOURCES

# Most edits change text, status or comments; a few delete (the breaker lets ≤ 5 per cycle).
WHATS = ("title", "description", "move", "comment")
DELETE_SHARE = 0.03
# An id in a path, as the sandboxes' counters replace it by {id}.
_ID = re.compile(r"(?<=.)/(?:[0-9a-fA-F]{24}|[0-9a-fA-F]{32,}|\d+|[0-9a-f-]{36})(?=/|$)")
PERSON_TOKEN = "ATTA" + "9e0b1e55" * 8 + "BE4C4BE4"


@dataclass(frozen=True)
class Step:
    """One edit of the script: ``at`` seconds into the edit phase, on task number ``task``."""

    at: float
    side: str
    what: str
    task: int


def script(edits: int, duration_s: float, tasks: int, seed: int = 9) -> list[Step]:
    """``edits`` edits at random times over ``duration_s``, on distinct tasks, both sides."""
    rng = random.Random(seed)
    if edits > tasks:
        raise ValueError(f"{edits} edits need {edits} distinct tasks; there are {tasks}")
    times = sorted(rng.uniform(0, duration_s) for _ in range(edits))
    chosen = rng.sample(range(tasks), edits)
    steps = []
    for i, (at, task) in enumerate(zip(times, chosen, strict=True)):
        what = "delete" if rng.random() < DELETE_SHARE else WHATS[i % len(WHATS)]
        steps.append(Step(round(at, 3), rng.choice(("custompms", "trello")), what, task))
    return steps


class People:
    """Makes the script's edits and watches them arrive; see the module docstring."""

    def __init__(self, sandboxes: Sandboxes, pairs: list[Pair], lists: dict[str, dict[str, str]]):
        self.world: Any = sandboxes.trello_app.state.world
        self.store: Any = sandboxes.custompms_app.store
        self.pairs = pairs
        self.lists = lists
        self.requests = {"trello": 0, "custompms": 0}
        self.routes: dict[str, Counter[str]] = {"trello": Counter(), "custompms": Counter()}
        self.answers_429 = 0
        self.trello = httpx.Client(
            base_url=sandboxes.trello_root,
            headers={"Authorization": oauth_header(sandboxes.trello_key, PERSON_TOKEN)},
            timeout=60.0,
        )
        self.pms = httpx.Client(
            base_url=sandboxes.custompms_url,
            headers={"Authorization": f"Bearer {CUSTOMPMS_TOKEN}"},
            timeout=60.0,
        )
        self.latencies: list[float] = []
        self.pending: dict[int, tuple[float, Step, str]] = {}
        self._lock = threading.Lock()
        self._comments_since: str | None = None
        self._pms_comments: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.trello.close()
        self.pms.close()

    # -- making edits ----------------------------------------------------------------------

    def _call(self, client: httpx.Client, system: str, method: str, path: str, **kw: Any) -> Any:
        while True:
            self.requests[system] += 1
            prefix = "/1" if system == "trello" else ""
            self.routes[system][f"{method} {prefix}{_ID.sub('/{id}', path)}"] += 1
            answer = client.request(method, path, **kw)
            if answer.status_code != 429:
                break
            self.answers_429 += 1
            time.sleep(1.0)
        if answer.status_code >= 400:
            raise RuntimeError(f"{system} answered {method} {path}: {answer.status_code}")
        return answer.json() if answer.content else None

    def run(self, steps: list[Step], label: str) -> None:
        """Make every edit at its time (late when the one before took longer)."""
        start = time.perf_counter()
        for n, step in enumerate(steps):
            time.sleep(max(0.0, start + step.at - time.perf_counter()))
            expected = self._make(step, f"{step.what} {label}-{n} on {step.side}")
            with self._lock:
                self.pending[n] = (time.perf_counter(), step, expected)

    def _make(self, step: Step, text: str) -> str:
        """Make one edit; returns what the other side should show."""
        pair = self.pairs[step.task]
        pms, trello = self.pms, self.trello
        if step.side == "custompms":
            path = f"/tasks/{pair.task_id}"
            if step.what == "title":
                self._call(pms, "custompms", "PATCH", path, json={"title": text})
            elif step.what == "description":
                self._call(pms, "custompms", "PATCH", path, json={"description": text})
            elif step.what == "move":
                text = _next_status(self._task(pair)["status"])
                self._call(pms, "custompms", "PATCH", path, json={"status": text})
            elif step.what == "comment":
                body = {"task_id": pair.task_id, "author": "Bench", "text": text}
                key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
                self._call(pms, "custompms", "POST", "/comments", json=body, headers=key)
            else:
                self._call(pms, "custompms", "DELETE", path)
            return text
        card = f"/cards/{pair.card_id}"
        if step.what == "title":
            self._call(trello, "trello", "PUT", card, params={"name": text})
        elif step.what == "description":
            desc = self.world.cards[pair.card_id]["desc"]
            rest = desc.split("\n", 1)[1] if "\n" in desc else ""  # keep pmbridge's backlink
            new = text + ("\n" + rest if rest else "")
            self._call(trello, "trello", "PUT", card, params={"desc": new})
        elif step.what == "move":
            listed = self.world.lists[self.world.cards[pair.card_id]["idList"]]["name"]
            text = _next_status(STATUS_OF_LIST.get(listed, "todo"))
            target = self.lists[pair.board_id][LIST_OF_STATUS[text]]
            self._call(trello, "trello", "PUT", card, params={"idList": target})
        elif step.what == "comment":
            self._call(trello, "trello", "POST", f"{card}/actions/comments", params={"text": text})
        else:
            self._call(trello, "trello", "DELETE", card)
        return text

    # -- watching them arrive -------------------------------------------------------------

    def watch(self, stop: threading.Event, every_s: float = 0.02) -> None:
        """Until ``stop``: record each pending edit's latency once it shows on the other side."""
        while not stop.is_set():
            with self._lock:
                waiting = list(self.pending.items())
            if waiting:
                self._read_pms_comments()
                wanted = any(
                    s.side == "custompms" and s.what == "comment"
                    for _, s, _ in (entry for _, entry in waiting)
                )
                trello_comments = self._trello_comments() if wanted else set()
                now = time.perf_counter()
                for n, (made, step, expected) in waiting:
                    if self._arrived(step, expected, trello_comments):
                        self.latencies.append(now - made)
                        with self._lock:
                            del self.pending[n]
            stop.wait(every_s)

    def _arrived(self, step: Step, expected: str, trello_comments: set[tuple[str, str]]) -> bool:
        pair = self.pairs[step.task]
        if step.side == "custompms":
            card = self.world.cards.get(pair.card_id)
            if step.what == "delete":
                return card is None or bool(card.get("closed"))
            if card is None:
                return False
            if step.what == "title":
                return card["name"] == expected
            if step.what == "description":
                return card["desc"].split("\n", 1)[0] == expected
            if step.what == "move":
                listed = self.world.lists[card["idList"]]["name"]
                return STATUS_OF_LIST.get(listed) == expected
            return (pair.card_id, expected) in trello_comments
        if step.what == "comment":
            return (pair.task_id, expected) in self._pms_comments
        try:
            task = self._task(pair)
        except Exception:  # NotFound or Gone: the task is deleted
            return step.what == "delete"
        if step.what == "delete":
            return bool(task.get("archived"))
        if step.what == "title":
            return task["title"] == expected
        if step.what == "description":
            return (task["description"] or "").split("\n", 1)[0] == expected
        return task["status"] == expected

    def _task(self, pair: Pair) -> dict[str, Any]:
        return self.store.get(RESOURCES["tasks"], pair.task_id)

    def _read_pms_comments(self) -> None:
        while True:
            page = self.store.feed(RESOURCES["comments"], self._comments_since, 1000)
            self._pms_comments.update((c["task_id"], c["text"]) for c in page.items)
            self._comments_since = page.next_since
            if not page.has_more:
                return

    def _trello_comments(self) -> set[tuple[str, str]]:
        for _ in range(5):  # the sandbox may add an action while this reads
            try:
                return {
                    (a["data"]["card"]["id"], a["data"]["text"])
                    for a in list(self.world.actions.values())
                    if a["type"] == "commentCard"
                }
            except RuntimeError:
                continue
        return set()


def _next_status(current: str) -> str:
    if current not in STATUSES:
        return "todo"
    return STATUSES[(STATUSES.index(current) + 1) % len(STATUSES)]
