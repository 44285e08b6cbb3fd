"""How much of Trello's OpenAPI the sandbox implements, and what it answers for the rest.

An operation counts as implemented when the sandbox has a route with the same method and the
same path template (parameter names aside); per-field catch-alls count only for the spec's
own ``/{field}`` operations. Every operation it does not implement must answer as Trello
answers an unknown route: 404 ``The requested resource was not found.`` in plain text —
never a made-up shape.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from fastapi.routing import APIRoute

from pmbridge.sandbox.trello.routes import ROUTERS, cards, lists
from tests.fixtures.trello import TRELLO_TEST_TOKEN
from tests.sandbox_trello.conftest import ok

SPEC: dict = json.loads((Path(__file__).parents[1] / "data" / "trello-openapi.json").read_text())
METHODS = ("get", "post", "put", "delete")
_PARAM = re.compile(r"\{[^}]+\}")

# Every operation issue 11 names (and those pmbridge's connector uses); each must be served.
REQUIRED = {
    # labels
    "GET /boards/{id}/labels", "POST /boards/{id}/labels", "GET /labels/{id}",
    "PUT /labels/{id}", "DELETE /labels/{id}", "POST /labels", "POST /cards/{id}/idLabels",
    "DELETE /cards/{id}/idLabels/{idLabel}", "PUT /cards/{id}",
    # checklists and check items
    "POST /cards/{id}/checklists", "GET /cards/{id}/checklists", "GET /boards/{id}/checklists",
    "GET /checklists/{id}", "PUT /checklists/{id}", "DELETE /checklists/{id}",
    "POST /checklists", "GET /checklists/{id}/checkItems", "POST /checklists/{id}/checkItems",
    "DELETE /checklists/{id}/checkItems/{idCheckItem}", "PUT /cards/{id}/checkItem/{idCheckItem}",
    "GET /cards/{id}/checkItemStates",
    # members
    "GET /boards/{id}/members", "GET /boards/{id}/memberships",
    "PUT /boards/{id}/members/{idMember}", "POST /cards/{id}/idMembers",
    "DELETE /cards/{id}/idMembers/{idMember}", "GET /members/{id}/cards",
    "GET /organizations/{id}/members",
    # attachments
    "POST /cards/{id}/attachments", "GET /cards/{id}/attachments",
    "GET /cards/{id}/attachments/{idAttachment}", "DELETE /cards/{id}/attachments/{idAttachment}",
    # routes independent clients call
    "GET /boards/{id}/cards/{filter}", "GET /tokens/{token}", "GET /tokens/{token}/member",
    "GET /tokens/{token}/webhooks", "POST /tokens/{token}/webhooks",
    "GET /tokens/{token}/webhooks/{idWebhook}", "PUT /tokens/{token}/webhooks/{idWebhook}",
    "DELETE /tokens/{token}/webhooks/{idWebhook}", "DELETE /tokens/{token}/", "GET /search",
    "GET /members/{id}/notifications",
    # custom fields
    "GET /boards/{id}/customFields", "POST /customFields", "GET /cards/{id}/customFieldItems",
    "PUT /cards/{idCard}/customField/{idCustomField}/item",
    # paging
    "GET /boards/{id}/cards",
}  # fmt: skip


def _template(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def spec_operations() -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in SPEC["paths"].items()
        for method in METHODS
        if method in item
    ]


def sandbox_routes() -> set[str]:
    """Every ``METHOD /template`` the sandbox's routers serve (under ``/1``)."""
    return {
        f"{method} {_template(route.path)}"
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


# Per-field routes (``PUT /lists/{id}/{field}``) serve these literal spec paths too.
PER_FIELD_ROUTES = {"PUT /lists/{}/{}": lists.PER_FIELD, "PUT /cards/{}/{}": cards.PER_FIELD}


def implemented(operation: str, routes: set[str]) -> bool:
    method, path = operation.split(" ", 1)
    if f"{method} {_template(path)}" in routes:
        return True
    head, _, last = _template(path).rpartition("/")
    return last in PER_FIELD_ROUTES.get(f"{method} {head}/{{}}", ())


def test_coverage_is_reported_and_covers_every_named_operation() -> None:
    operations = spec_operations()
    routes = sandbox_routes()
    done = [op for op in operations if implemented(op, routes)]
    share = len(done) / len(operations)
    print(f"\nTrello sandbox OpenAPI coverage: {len(done)} / {len(operations)} ({share:.0%})")
    assert REQUIRED <= set(operations), sorted(REQUIRED - set(operations))
    missing = sorted(op for op in REQUIRED if not implemented(op, routes))
    assert not missing, f"named operations the sandbox does not serve: {missing}"
    assert len(done) >= len(REQUIRED)


def _concrete(path: str, ids: dict[str, str]) -> str:
    """The path with a real id for each parameter (by resource), so only the route matters."""
    resource = path.strip("/").split("/")[0]
    first = ids.get(resource, "0" * 24)

    def fill(match: re.Match[str]) -> str:
        name = match.group(0)[1:-1]
        if name in ("id", "idOrName", "idBoard", "boardId", "idCard", "idMember") and (
            match.start() == len(resource) + 2
        ):
            return first
        if name == "token":
            return TRELLO_TEST_TOKEN
        if name in ("field", "filter"):
            return "nosuchthing"
        return "0" * 24

    return _PARAM.sub(fill, path)


def test_every_other_operation_answers_as_an_unknown_route(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    ids = {
        "boards": board["id"],
        "cards": card["id"],
        "lists": board["lists"][0]["id"],
        "organizations": board["organization"]["id"],
        "members": "me",
    }
    routes = sandbox_routes()
    wrong = []
    for operation in spec_operations():
        if implemented(operation, routes):
            continue
        method, path = operation.split(" ", 1)
        reply = api.request(method, _concrete(path, ids))
        if (reply.status_code, reply.text) != (404, "The requested resource was not found."):
            wrong.append(f"{operation}: {reply.status_code} {reply.text[:60]}")
    assert not wrong, "\n".join(wrong)
