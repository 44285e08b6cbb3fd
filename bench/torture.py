"""``python -m bench.torture``: people and processes misbehave; nothing is duplicated or lost.

On a fresh pair (both sandboxes, an empty state store) for each ordeal:

- **kills** — a first sync of N tasks with one comment each, its ``pmbridge sync`` processes
  SIGKILLed at random moments, while people create tasks in Custompms and cards on Trello
  between the kills;
- **storm** — 5xx answers, connections dropped before and after the request acted, 429
  bursts and latency on both sandboxes, during a first sync and during syncs while people
  edit tasks and cards on both sides;
- **concurrent** — three ``pmbridge sync`` processes started at once, for the first sync and
  again after edits on both sides.

After each, with the faults off, it syncs until a sync ends with status 0 (exit status 1,
some records failed, is survivable; 2 is counted apart), then runs one idle ``sync`` and one
``sync --full`` and counts what they wrote at the sandboxes (both must write nothing: a
write of ``--full`` is a change the incremental cycles missed), and checks
(``torture_checks.py``): no duplicate on either side, every object paired with equal values,
every linked card with its backlink footer, every edit arrived or in the conflict log.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.common import RESULTS, command, console, table, write_result
from bench.dataset import seed
from bench.torture_checks import FOOTER, STATUS_LISTS, Edit
from bench.torture_pair import Pair

T = TypeVar("T")
STATUSES = tuple(STATUS_LISTS)
FIELDS = ("title", "description", "status")


@dataclass(frozen=True)
class Size:
    tasks: int  # the kills' first sync
    kills: int
    kill_window_s: tuple[float, float]  # a kill comes this long after the first write
    storm_tasks: int
    storm_rounds: int  # syncs under the storm with edits made during each
    edits: int  # per side and round
    clashes: int  # tasks edited on both sides at once, per round
    concurrent_tasks: int
    rounds: int  # at most this many syncs to converge after an ordeal


SIZES = {
    "full": Size(1000, 100, (0.05, 0.5), 200, 3, 20, 5, 300, 10),
    "smoke": Size(16, 3, (0.05, 0.3), 12, 1, 2, 1, 12, 5),
}
STORM = {"error_rate": 0.1, "drop_rate": 0.03, "drop_after_rate": 0.05, "latency_ms": 15.0}
# The smoke size's storm is milder, so that retries' backoff does not make the CI test long.
SMOKE_STORM = {"error_rate": 0.04, "drop_rate": 0.02, "drop_after_rate": 0.03, "latency_ms": 5.0}


def patiently(step: Callable[[], T], tries: int = 40) -> T:
    """A person's request, tried again until it goes through (the storm fails many)."""
    for _ in range(tries - 1):
        try:
            return step()
        except (RuntimeError, httpx.HTTPError):
            time.sleep(0.05)
    return step()


# -- people ------------------------------------------------------------------------------


def create_on_both_sides(pair: Pair, rng: random.Random, label: str) -> None:
    """A person adds a task in Custompms, another a card on Trello (where a board is)."""
    projects = pair.pms.all("projects")
    pair.pms.create(
        "tasks", project_id=rng.choice(projects)["id"], title=f"Task by a person {label}"
    )
    boards = pair.trello.boards()
    rng.shuffle(boards)
    for board in boards:
        lists = [
            i for name, i in pair.trello.lists(board["id"]).items() if name in STATUS_LISTS.values()
        ]
        if lists:
            pair.trello.call(
                "POST", "/cards", idList=rng.choice(lists), name=f"Card by a person {label}"
            )
            return


def linked_cards(pair: Pair) -> list[tuple[str, dict[str, Any]]]:
    """(task id, card) for every card whose footer names a task, as a person sees them."""
    found = []
    for board in patiently(pair.trello.boards):
        for card in patiently(lambda b=board: pair.trello.cards(b["id"])):
            task_id = FOOTER.strip(card.get("desc") or "")[1]
            if task_id:
                found.append((task_id, card))
    return sorted(found, key=lambda item: item[0])


def edit_task(pair: Pair, task_id: str, field: str, value: str) -> Edit:
    """A person edits a task in Custompms (a status edit moves it on by one)."""
    if field == "status":
        current = patiently(lambda: pair.pms.get("tasks", task_id))["status"]
        value = STATUSES[(STATUSES.index(current) + 1) % len(STATUSES)]
    patiently(lambda: pair.pms.update("tasks", task_id, **{field: value}))
    return Edit("custompms", task_id, field, value)


def edit_card(pair: Pair, card: dict[str, Any], field: str, value: str) -> Edit:
    """A person edits a card on Trello (a status edit moves it to another list there)."""
    path = f"/cards/{card['id']}"
    if field == "status":
        lists = patiently(lambda: pair.trello.lists(card["idBoard"]))
        others = [n for n in STATUS_LISTS.values() if n in lists and lists[n] != card["idList"]]
        if not others:
            return edit_card(pair, card, "title", value.replace("status", "title"))
        patiently(lambda: pair.trello.call("PUT", path, idList=lists[others[0]]))
        return Edit("trello", card["id"], field, others[0])
    if field == "title":
        patiently(lambda: pair.trello.call("PUT", path, name=value))
    else:
        # A person edits the text and leaves pmbridge's backlink footer below it.
        desc = card.get("desc") or ""
        footer = desc[len(FOOTER.strip(desc)[0]) :]
        patiently(lambda: pair.trello.call("PUT", path, desc=value + footer))
    return Edit("trello", card["id"], field, value)


def edit_both_sides(pair: Pair, k: int, label: str, start: int = 0, clashes: int = 0) -> list[Edit]:
    """``k`` edits on each side on distinct tasks (title, description, status in turn),
    from the ``start``-th linked task on; then ``clashes`` tasks whose title is edited on
    both sides at once (a conflict: the losing value must be in the conflict log)."""
    cards = linked_cards(pair)[start:]
    edits = []
    for i, (task_id, card) in enumerate(cards[: 2 * k]):
        field = FIELDS[(i // 2) % len(FIELDS)]
        value = f"{field} {label}-{i}"
        if i % 2 == 0:
            edits.append(edit_task(pair, task_id, field, value))
        else:
            edits.append(edit_card(pair, card, field, value))
    for i, (task_id, card) in enumerate(cards[2 * k : 2 * k + clashes]):
        edits.append(edit_task(pair, task_id, "title", f"clash {label}-{i} in Custompms"))
        edits.append(edit_card(pair, card, "title", f"clash {label}-{i} on Trello"))
    return edits


# -- the ordeals --------------------------------------------------------------------------


def kills(pair: Pair, size: Size, rng: random.Random) -> dict[str, Any]:
    seed(pair.sandboxes.custompms_app, tasks=size.tasks, customers=2, projects=4)
    hit = 0
    for n in range(size.kills):
        hit += pair.kill_while_writing(rng.uniform(*size.kill_window_s))
        create_on_both_sides(pair, rng, f"{n}")
    return {"kills": size.kills, "kills_during_a_sync": hit, **pair.settle(size.rounds)}


class Storm:
    """The storm: fault knobs on both sandboxes, and bursts of forced 429s on each in turn."""

    def __init__(self, pair: Pair, knobs: dict[str, float], every_s: float = 2.5, burst: int = 2):
        self.knobs = knobs
        self.controls = [
            pair.sandboxes.trello_app.state.control,
            pair.sandboxes.custompms_app.state.control,
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s, burst), daemon=True)

    def _run(self, every_s: float, burst: int) -> None:
        n = 0
        while not self._stop.wait(every_s):
            self.controls[n % 2].set_faults(force_429=burst)
            n += 1

    def __enter__(self) -> Storm:
        for n, control in enumerate(self.controls):
            control.set_faults(**self.knobs, seed=n)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        for control in self.controls:
            control.clear_faults()


def storm(pair: Pair, size: Size, rng: random.Random) -> dict[str, Any]:
    seed(pair.sandboxes.custompms_app, tasks=size.storm_tasks, customers=2, projects=4)
    edits: list[Edit] = []
    knobs = SMOKE_STORM if size == SIZES["smoke"] else STORM
    with Storm(pair, knobs, burst=1 if knobs is SMOKE_STORM else 2):
        for _ in range(size.rounds):  # the first sync, under the storm, until it gets through
            if pair.sync()[0] != 2:
                break
        span = 2 * size.edits + size.clashes  # each round edits other tasks
        for r in range(size.storm_rounds):
            running = pair.start()
            edits += edit_both_sides(pair, size.edits, f"storm{r}", r * span)
            pair.finish(running)
            # Between two syncs, so that one sync sees both edits of a clash.
            edits += edit_both_sides(pair, 0, f"storm{r}", r * span + 2 * size.edits, size.clashes)
    return {"edits": edits, **pair.settle(size.rounds)}


def concurrent(pair: Pair, size: Size, rng: random.Random) -> dict[str, Any]:
    seed(pair.sandboxes.custompms_app, tasks=size.concurrent_tasks, customers=2, projects=4)
    for process in [pair.start() for _ in range(3)]:
        pair.finish(process)
    edits = edit_both_sides(pair, size.edits, "concurrent", clashes=size.clashes)
    create_on_both_sides(pair, rng, "concurrent")
    for process in [pair.start() for _ in range(3)]:
        pair.finish(process)
    return {"edits": edits, **pair.settle(size.rounds)}


ORDEALS: dict[str, Callable[[Pair, Size, random.Random], dict[str, Any]]] = {
    "kills": kills,
    "storm": storm,
    "concurrent": concurrent,
}


def run_ordeal(name: str, size: Size, store_url: str | None, rng: random.Random) -> dict[str, Any]:
    console.print(f"[bold]{name}[/] on a fresh pair …")
    started = time.monotonic()
    with Pair(store_url) as pair:
        figures = ORDEALS[name](pair, size, rng)
        edits = figures.pop("edits", [])
        findings = pair.check(edits)
        exits = asdict(pair.exits)
    return {
        **figures,
        "edits_made": len(edits),
        "exits": exits,
        "findings": findings.as_json(),
        "clean": findings.clean and figures["idle_writes"] == 0 and figures["full_writes"] == 0,
        "wall_s": round(time.monotonic() - started, 1),
    }


def summary(ordeals: dict[str, dict[str, Any]]) -> dict[str, int]:
    def total(kind: str) -> int:
        return sum(o["findings"][kind]["count"] for o in ordeals.values())

    return {
        "kills_survived": sum(o.get("kills_during_a_sync", 0) for o in ordeals.values()),
        "duplicates": total("duplicates"),
        "lost": total("lost_edits") + total("unpaired"),
        "unequal": total("unequal"),
        "missing_footers": total("missing_footers"),
        "idle_writes": sum(o["idle_writes"] for o in ordeals.values()),
        "missed_by_incremental": sum(o["full_writes"] for o in ordeals.values()),
        "exit_2": sum(o["exits"]["stopped"] for o in ordeals.values()),
    }


def main(argv: list[str] | None = None) -> Path:
    found = argparse.ArgumentParser(prog="python -m bench.torture", description=__doc__)
    found.add_argument("--size", choices=tuple(SIZES), default="full")
    found.add_argument(
        "--store-url",
        help="the state store: a PostgreSQL URL gets a fresh schema per ordeal "
        "(default: a SQLite file per ordeal)",
    )
    found.add_argument("--only", nargs="+", choices=tuple(ORDEALS), default=list(ORDEALS))
    found.add_argument("--seed", type=int, default=8)
    found.add_argument("--results", type=Path, default=RESULTS)
    args = found.parse_args(argv)
    size, rng = SIZES[args.size], random.Random(args.seed)
    ordeals = {name: run_ordeal(name, size, args.store_url, rng) for name in args.only}
    totals = summary(ordeals)
    store = "postgresql" if args.store_url and args.store_url.startswith("postgres") else "sqlite"
    rows = [
        [
            name,
            o.get("kills_during_a_sync", "—"),
            o["findings"]["duplicates"]["count"],
            o["findings"]["lost_edits"]["count"] + o["findings"]["unpaired"]["count"],
            o["findings"]["unequal"]["count"],
            o["findings"]["missing_footers"]["count"],
            o["idle_writes"],
            o["full_writes"],
            f"{o['exits']['ok']}/{o['exits']['partial']}/{o['exits']['stopped']}",
            o["wall_s"],
        ]
        for name, o in ordeals.items()
    ]
    console.print(
        table(
            f"Torture ({args.size}, {store} store)",
            [
                "ordeal",
                "kills",
                "duplicates",
                "lost",
                "unequal",
                "no footer",
                "idle writes",
                "--full writes",
                "exit 0/1/2",
                "wall s",
            ],
            rows,
        )
    )
    name = "torture" if store == "sqlite" else "torture-postgresql"
    return write_result(
        args.results,
        name,
        {
            "benchmark": "torture",  # one file per store, one command
            "command": command("torture", argv),
            "size": args.size,
            "store": store,
            "sizes": asdict(size),
            "summary": totals,
            "ordeals": ordeals,
        },
        argv,
    )


if __name__ == "__main__":
    main()
