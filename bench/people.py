"""People using each system over its HTTP API: they edit, and they check what arrived.

``PmsUser`` uses the reference Custompms, ``TrelloUser`` the Trello sandbox, with plain
synchronous httpx clients, as a person's tools would. Their requests are counted by the
sandboxes like anyone's, so benchmarks reset the counters after the people are done.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bench.sandboxes import CUSTOMPMS_TOKEN, Sandboxes

PAGE = 1000


class PmsUser:
    """A person (or another program) using the reference Custompms."""

    def __init__(self, sandboxes: Sandboxes):
        self.http = httpx.Client(
            base_url=sandboxes.custompms_url,
            headers={"Authorization": f"Bearer {CUSTOMPMS_TOKEN}"},
            timeout=60.0,
        )

    def close(self) -> None:
        self.http.close()

    def _ok(self, answer: httpx.Response) -> Any:
        if answer.status_code >= 400:
            raise RuntimeError(f"Custompms answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    def create(self, resource: str, **body: Any) -> dict[str, Any]:
        key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
        return self._ok(self.http.post(f"/{resource}", json=body, headers=key))

    def update(self, resource: str, id: str, **body: Any) -> dict[str, Any]:
        return self._ok(self.http.patch(f"/{resource}/{id}", json=body))

    def get(self, resource: str, id: str) -> dict[str, Any]:
        return self._ok(self.http.get(f"/{resource}/{id}"))

    def all(self, resource: str) -> list[dict[str, Any]]:
        """Every live record of ``resource`` (its feed read from the start)."""
        items: dict[str, dict[str, Any]] = {}
        since: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, **({"since": since} if since else {})}
            page = self._ok(self.http.get(f"/{resource}", params=params))
            items.update((item["id"], item) for item in page["items"])
            since = page["next_since"]
            if not page["has_more"]:
                return [item for item in items.values() if not item.get("deleted")]


class TrelloUser:
    """A person using Trello (the sandbox) over its REST API."""

    def __init__(self, sandboxes: Sandboxes):
        self.http = httpx.Client(
            base_url=sandboxes.trello_root,
            headers={"Authorization": sandboxes.trello_authorization},
            timeout=60.0,
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **params: Any) -> Any:
        answer = self.http.request(method, path, params=params or None)
        if answer.status_code != 200:
            raise RuntimeError(f"Trello answered {method} {path}: {answer.status_code}")
        return answer.json()

    def boards(self) -> list[dict[str, Any]]:
        """The open boards of every workspace of the member."""
        orgs = self.call("GET", "/members/me/organizations", fields="id")
        return [
            board
            for org in orgs
            for board in self.call(
                "GET", f"/organizations/{org['id']}/boards", filter="open", fields="id,name"
            )
        ]

    def lists(self, board: str) -> dict[str, str]:
        """The board's open lists, name → id."""
        found = self.call("GET", f"/boards/{board}/lists", filter="open", fields="id,name")
        return {item["name"]: item["id"] for item in found}

    def cards(self, board: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/boards/{board}/cards", fields="id,name,desc,idList,idBoard")

    def comments(self, board: str) -> list[dict[str, Any]]:
        """Every comment action of the board, newest first."""
        found: list[dict[str, Any]] = []
        before: str | None = None
        while True:
            params: dict[str, Any] = {"filter": "commentCard", "limit": PAGE}
            if before:
                params["before"] = before
            page = self.call("GET", f"/boards/{board}/actions", **params)
            found.extend(page)
            if len(page) < PAGE:
                return found
            before = page[-1]["id"]
