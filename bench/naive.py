"""The naive baseline: a full-refresh two-way sync, as a simple script would write it.

Every cycle reads everything on both sides — Custompms: all customers, projects, tasks and
comments (each feed from its start); Trello: the member's workspaces, each workspace's
boards, and each board's lists, cards and comments — compares each linked pair with the
values both sides had at the end of the last cycle (kept in a JSON state file), writes the
differences, and creates on the other side whatever is new on either side.

It carries: customer name, description, website ↔ workspace displayName, desc, website;
project name, description, customer ↔ board name, desc, workspace; task title,
description, status, project ↔ card name, desc, list (by name: To Do / Doing / Done),
board; task comment text ↔ card comment text. A property changed on both sides takes the
Custompms value. It is a yardstick for the number of calls, not a product: no deletions,
no moves between boards, no project comments, no dates or archive flags, no rate limiting
and no retries.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# status ↔ list name, as in pmbridge's default flow file
LIST_OF_STATUS = {"todo": "To Do", "in_progress": "Doing", "done": "Done"}
STATUS_OF_LIST = {name: status for status, name in LIST_OF_STATUS.items()}
KINDS = ("customer", "project", "task", "comment")
PAGE = 1000  # the largest page both APIs give
CONCURRENCY = 8

View = dict[str, Any]  # one object's synced properties, in side-neutral names


def _customer_view(item: dict[str, Any]) -> View:
    return {
        "name": item["name"],
        "description": item.get("description") or "",
        "website": item.get("website"),
    }


def _org_view(org: dict[str, Any]) -> View:
    return {
        "name": org["displayName"],
        "description": org.get("desc") or "",
        "website": org.get("website"),
    }


@dataclass
class Outcome:
    """What one cycle did: writes per (kind, side written), and the writes that failed."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def count(self, what: dict[str, int], kind: str, side: str) -> None:
        key = f"{kind}:{side}"
        what[key] = what.get(key, 0) + 1

    @property
    def writes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "problems": self.problems}


@dataclass
class _Side:
    """Everything read from one side this cycle: kind → id → view."""

    views: dict[str, dict[str, View]] = field(default_factory=lambda: {k: {} for k in KINDS})


class NaiveSync:
    """One naive sync between a Custompms and a Trello (see the module docstring).

    :param state_path: the JSON file holding the links and last-synced values
    """

    def __init__(
        self,
        state_path: Path,
        *,
        trello_url: str,
        trello_key: str,
        trello_token: str,
        custompms_url: str,
        custompms_token: str,
    ):
        self.state_path = state_path
        timeout = httpx.Timeout(60.0, connect=5.0)
        self.trello = httpx.AsyncClient(
            base_url=trello_url.rstrip("/"),
            headers={
                "Authorization": f'OAuth oauth_consumer_key="{trello_key}", '
                f'oauth_token="{trello_token}"'
            },
            timeout=timeout,
        )
        self.pms = httpx.AsyncClient(
            base_url=custompms_url.rstrip("/"),
            headers={"Authorization": f"Bearer {custompms_token}"},
            timeout=timeout,
        )
        self._limit = asyncio.Semaphore(CONCURRENCY)
        # links: kind → custompms id → {"trello": id, "base": view}
        self.links: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        if state_path.exists():
            self.links.update(json.loads(state_path.read_text(encoding="utf-8"))["links"])

    async def __aenter__(self) -> NaiveSync:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.trello.aclose()
        await self.pms.aclose()

    def save(self) -> None:
        self.state_path.write_text(json.dumps({"links": self.links}), encoding="utf-8")

    # -- HTTP -------------------------------------------------------------------------------

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
        async with self._limit:
            answer = await client.request(method, path, **kw)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def _trello(self, method: str, path: str, **params: Any) -> Awaitable[Any]:
        return self._call(self.trello, method, path, params=params or None)

    def _pms(self, method: str, path: str, **kw: Any) -> Awaitable[Any]:
        return self._call(self.pms, method, path, **kw)

    # -- reading everything -------------------------------------------------------------

    async def _read_custompms(self) -> _Side:
        side = _Side()
        resources = {"customer": "customers", "project": "projects", "task": "tasks"}
        feeds = await asyncio.gather(*(self._feed(r) for r in (*resources.values(), "comments")))
        customers, projects, tasks, comments = feeds
        side.views["customer"] = {i["id"]: _customer_view(i) for i in customers}
        side.views["project"] = {
            i["id"]: {
                "name": i["name"],
                "description": i.get("description") or "",
                "parent": i.get("customer_id"),
            }
            for i in projects
        }
        side.views["task"] = {
            i["id"]: {
                "title": i["title"],
                "description": i.get("description") or "",
                "status": i.get("status"),
                "parent": i["project_id"],
            }
            for i in tasks
        }
        side.views["comment"] = {
            i["id"]: {"text": i["text"], "parent": i["task_id"]} for i in comments if i["task_id"]
        }
        return side

    async def _feed(self, resource: str) -> list[dict[str, Any]]:
        """Every live record of ``resource``: its change feed read from the start."""
        items: dict[str, dict[str, Any]] = {}
        since: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, **({"since": since} if since else {})}
            page = await self._pms("GET", f"/{resource}", params=params)
            items.update((item["id"], item) for item in page["items"])
            since = page["next_since"]
            if not page["has_more"]:
                return [item for item in items.values() if not item.get("deleted")]

    async def _read_trello(self) -> tuple[_Side, dict[str, dict[str, str]]]:
        """Everything on Trello, and each board's open lists (name → id)."""
        side = _Side()
        orgs = await self._trello(
            "GET", "/members/me/organizations", fields="id,displayName,desc,website"
        )
        side.views["customer"] = {o["id"]: _org_view(o) for o in orgs}
        board_lists = await asyncio.gather(
            *(
                self._trello(
                    "GET",
                    f"/organizations/{o['id']}/boards",
                    filter="open",
                    fields="id,name,desc,idOrganization",
                )
                for o in orgs
            )
        )
        boards = [b for found in board_lists for b in found]
        side.views["project"] = {
            b["id"]: {
                "name": b["name"],
                "description": b.get("desc") or "",
                "parent": b.get("idOrganization"),
            }
            for b in boards
        }
        contents = await asyncio.gather(*(self._read_board(b["id"]) for b in boards))
        lists_of: dict[str, dict[str, str]] = {}
        for board, (lists, cards, comments) in zip(boards, contents, strict=True):
            lists_of[board["id"]] = {lst["name"]: lst["id"] for lst in lists}
            names = {lst["id"]: lst["name"] for lst in lists}
            for card in cards:
                side.views["task"][card["id"]] = {
                    "title": card["name"],
                    "description": card.get("desc") or "",
                    "status": STATUS_OF_LIST.get(names.get(card["idList"], "")),
                    "parent": board["id"],
                }
            for action in comments:
                data = action["data"]
                side.views["comment"][action["id"]] = {
                    "text": data["text"],
                    "parent": data["card"]["id"],
                }
        return side, lists_of

    async def _read_board(self, board: str) -> tuple[list[Any], list[Any], list[Any]]:
        lists, cards = await asyncio.gather(
            self._trello("GET", f"/boards/{board}/lists", filter="open", fields="id,name"),
            self._trello("GET", f"/boards/{board}/cards", fields="id,name,desc,idList"),
        )
        comments: list[Any] = []
        before: str | None = None
        while True:
            params: dict[str, Any] = {"filter": "commentCard", "limit": PAGE}
            if before:
                params["before"] = before
            page = await self._trello("GET", f"/boards/{board}/actions", **params)
            comments.extend(page)
            if len(page) < PAGE:
                return lists, cards, comments
            before = page[-1]["id"]

    # -- one cycle ------------------------------------------------------------------------

    async def cycle(self) -> Outcome:
        """Read both sides in full, write the differences, save the state."""
        outcome = Outcome()
        c_side, (t_side, lists_of) = await asyncio.gather(
            self._read_custompms(), self._read_trello()
        )
        self._list_locks: dict[str, asyncio.Lock] = {}
        self._lists_of = lists_of
        try:
            for kind in KINDS:
                await self._sync_kind(kind, c_side.views[kind], t_side.views[kind], outcome)
        finally:
            self.save()
        return outcome

    def _parent_kind(self, kind: str) -> str | None:
        return {"project": "customer", "task": "project", "comment": "task"}.get(kind)

    def _to_custompms_ids(self, kind: str, t_views: dict[str, View]) -> dict[str, View]:
        """Trello views with their parent given as the Custompms id (unlinked parents: out)."""
        parent_kind = self._parent_kind(kind)
        if parent_kind is None:
            return t_views
        by_trello = {link["trello"]: cid for cid, link in self.links[parent_kind].items()}
        out = {}
        for tid, view in t_views.items():
            parent = by_trello.get(view["parent"])
            if parent is not None:
                out[tid] = {**view, "parent": parent}
        return out

    async def _sync_kind(
        self, kind: str, c_views: dict[str, View], t_raw: dict[str, View], outcome: Outcome
    ) -> None:
        t_views = self._to_custompms_ids(kind, t_raw)
        links = self.links[kind]
        linked_trello = {link["trello"] for link in links.values()}
        jobs: list[Callable[[], Awaitable[None]]] = []
        for cid, link in links.items():
            c, t = c_views.get(cid), t_views.get(link["trello"])
            if c is None or t is None:
                continue  # deleted, moved or out of scope: not handled by this baseline
            jobs.append(self._merge_job(kind, cid, link, c, t, outcome))
        for cid, c in c_views.items():
            if cid not in links:
                jobs.append(self._create_job(kind, "trello", cid, c, outcome))
        for tid, t in t_views.items():
            if tid not in linked_trello:
                jobs.append(self._create_job(kind, "custompms", tid, t, outcome))
        await asyncio.gather(*(job() for job in jobs))

    def _merge_job(
        self, kind: str, cid: str, link: dict[str, Any], c: View, t: View, outcome: Outcome
    ) -> Callable[[], Awaitable[None]]:
        base: View = link["base"]
        merged = {
            key: c[key]
            if c[key] != base.get(key)
            else t[key]
            if t[key] != base.get(key)
            else c[key]
            for key in c
        }

        async def job() -> None:
            to_c = {k: v for k, v in merged.items() if c[k] != v}
            to_t = {k: v for k, v in merged.items() if t[k] != v}
            try:
                if to_c:
                    await self._write_custompms(kind, cid, to_c)
                    outcome.count(outcome.updated, kind, "custompms")
                if to_t:
                    await self._write_trello(kind, link["trello"], to_t, merged)
                    outcome.count(outcome.updated, kind, "trello")
            except httpx.HTTPError as err:
                outcome.problems.append(f"{kind} {cid}: {err}")
                return
            link["base"] = merged

        return job

    def _create_job(
        self, kind: str, target: str, source_id: str, view: View, outcome: Outcome
    ) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            try:
                if target == "trello":
                    parent = self._trello_parent(kind, view)
                    if kind != "customer" and parent is None:
                        return  # its parent is not on Trello yet
                    tid = await self._create_trello(kind, view, parent)
                    self.links[kind][source_id] = {"trello": tid, "base": view}
                else:
                    cid = await self._create_custompms(kind, view)
                    self.links[kind][cid] = {"trello": source_id, "base": view}
            except httpx.HTTPError as err:
                outcome.problems.append(f"new {kind} {source_id}: {err}")
                return
            outcome.count(outcome.created, kind, target)

        return job

    def _trello_parent(self, kind: str, view: View) -> str | None:
        parent_kind = self._parent_kind(kind)
        if parent_kind is None:
            return None
        link = self.links[parent_kind].get(view["parent"] or "")
        return link["trello"] if link else None

    # -- writes -----------------------------------------------------------------------------

    async def _list_id(self, board: str, status: str | None) -> str:
        """The id of the board's list for ``status``, created when missing."""
        name = LIST_OF_STATUS.get(status or "todo", "To Do")
        lock = self._list_locks.setdefault(board, asyncio.Lock())
        async with lock:
            lists = self._lists_of.setdefault(board, {})
            if name not in lists:
                made = await self._trello("POST", "/lists", name=name, idBoard=board, pos="bottom")
                lists[name] = made["id"]
            return lists[name]

    async def _create_trello(self, kind: str, view: View, parent: str | None) -> str:
        if kind == "customer":
            params = {"displayName": view["name"], "desc": view["description"]}
            if view["website"]:
                params["website"] = view["website"]
            return (await self._trello("POST", "/organizations", **params))["id"]
        if kind == "project":
            made = await self._trello(
                "POST",
                "/boards",
                name=view["name"],
                desc=view["description"],
                idOrganization=parent,
                defaultLists="false",
            )
            return made["id"]
        if kind == "task":
            assert parent is not None
            made = await self._trello(
                "POST",
                "/cards",
                idList=await self._list_id(parent, view["status"]),
                name=view["title"],
                desc=view["description"],
            )
            return made["id"]
        made = await self._trello("POST", f"/cards/{parent}/actions/comments", text=view["text"])
        return made["id"]

    async def _write_trello(self, kind: str, tid: str, changes: View, merged: View) -> None:
        if kind == "customer":
            names = {"name": "displayName", "description": "desc", "website": "website"}
            params = {names[k]: v for k, v in changes.items()}
            await self._trello("PUT", f"/organizations/{tid}", **params)
        elif kind == "project":
            names = {"name": "name", "description": "desc"}
            params = {names[k]: v for k, v in changes.items() if k in names}
            if params:
                await self._trello("PUT", f"/boards/{tid}", **params)
        elif kind == "task":
            params = {}
            if "title" in changes:
                params["name"] = changes["title"]
            if "description" in changes:
                params["desc"] = changes["description"]
            if "status" in changes:
                board = self.links["project"][merged["parent"]]["trello"]
                params["idList"] = await self._list_id(board, changes["status"])
            if params:
                await self._trello("PUT", f"/cards/{tid}", **params)
        elif "text" in changes:
            card = self.links["task"][merged["parent"]]["trello"]
            await self._trello("PUT", f"/cards/{card}/actions/{tid}/comments", text=changes["text"])

    async def _create_custompms(self, kind: str, view: View) -> str:
        body: dict[str, Any]
        if kind == "customer":
            body = {k: v for k, v in view.items() if v is not None}
            resource = "customers"
        elif kind == "project":
            body = {"name": view["name"], "description": view["description"]}
            body["customer_id"] = view["parent"]
            resource = "projects"
        elif kind == "task":
            body = {
                "title": view["title"],
                "description": view["description"],
                "status": view["status"] or "todo",
                "project_id": view["parent"],
            }
            resource = "tasks"
        else:
            body = {"text": view["text"], "task_id": view["parent"]}
            resource = "comments"
        made = await self._pms(
            "POST",
            f"/{resource}",
            json=body,
            headers={"Idempotency-Key": f"naive-{uuid.uuid4().hex}"},
        )
        return str(made["id"])

    async def _write_custompms(self, kind: str, cid: str, changes: View) -> None:
        resources = {"customer": "customers", "project": "projects", "task": "tasks"}
        body = {k: v for k, v in changes.items() if k != "parent"}
        if kind == "task" and body.get("status") is None:
            body.pop("status", None)  # a card in a list outside the map keeps its status
        if not body:
            return
        await self._pms("PATCH", f"/{resources.get(kind, 'comments')}/{cid}", json=body)
