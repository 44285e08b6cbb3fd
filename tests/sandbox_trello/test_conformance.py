"""Conformance: every operation's answer validates against Trello's own OpenAPI description.

Each sandbox operation is called over HTTP and its 200 body is validated with jsonschema
against the response schema that operation has in ``tests/data/trello-openapi.json``
(``$ref``s resolved). Where the spec declares no schema, the body is validated against the
component schema of the object the operation returns (``Card``, ``Board``, ``Action``,
``Organization``, ``TrelloList``, ``Member``).

The spec's schemas require nothing, so on its own it would accept a body with a field
missing. The fields each object must carry are therefore made required, taken from the spec
itself: the ``fields`` defaults of the object's GET operation (or, where that default is
``all``, every property the schema declares). A self-check proves that a removed field or
a wrong type fails validation.

Known defects of the spec are patched in ``SPEC_FIXES``, each with the reference that shows
real Trello differs (TRELLO_API.md, SOURCES.md). Error answers are checked against
TRELLO_API.md §8, not the spec (its JSON 401/404 bodies are a known defect).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from tests.fixtures.trello import (
    TRELLO_TEST_KEY,
    TRELLO_TEST_MEMBER_ID,
    TRELLO_TEST_SECRET,
    TRELLO_TEST_TOKEN,
    oauth_header,
)

SPEC_PATH = Path(__file__).parents[1] / "data" / "trello-openapi.json"
SPEC: dict = json.loads(SPEC_PATH.read_text())
SCHEMAS = "#/components/schemas/"


# --- OpenAPI 3.0 schema -> JSON Schema ---------------------------------------------------


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema 2020-12.

    ``nullable: true`` becomes a ``null`` alternative; keywords next to a ``$ref`` are
    dropped (OpenAPI 3.0 ignores them); ``example`` is dropped.
    """
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("nullable") is True
    if "$ref" in node:
        ref = {"$ref": node["$ref"]}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    out = {k: to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
    for key in ("properties", "patternProperties"):
        if key in node:
            out[key] = {name: to_json_schema(sub) for name, sub in node[key].items()}
    if nullable:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


_MEMBERSHIP = {
    "type": "object",
    "required": ["id", "idMember", "memberType"],
    "properties": {
        "id": {"$ref": SCHEMAS + "TrelloID"},
        "idMember": {"$ref": SCHEMAS + "TrelloID"},
        "memberType": {"type": "string"},
        "unconfirmed": {"type": "boolean"},
        "deactivated": {"type": "boolean"},
    },
}

# (schema, property path, replacement, why). Each is a place where real Trello answers
# differently from the spec; the sandbox follows real Trello (TRELLO_API.md wins).
SPEC_FIXES: list[tuple[str, tuple[str, ...], Any, str]] = [
    ("Board", ("descData",), _nullable({"type": "object"}),
     "TRELLO_API.md §5: descData is an object or null (spec: string)"),
    ("Board", ("idOrganization",), _nullable({"$ref": SCHEMAS + "TrelloID"}),
     "TRELLO_API.md §5: idOrganization is null on boards outside a workspace"),
    ("Board", ("memberships",), {"type": "array", "items": _MEMBERSHIP},
     "TRELLO_API.md §5: memberships [{id, idMember, memberType, unconfirmed, deactivated}]"),
    ("Board", ("powerUps",), {"type": "array"}, "real boards list power-ups (spec: string)"),
    ("Board", ("idTags",), {"type": "array"}, "real boards list tag ids (spec: string)"),
    ("Board", ("ixUpdate",), {"type": "string"}, "TRELLO_API.md §5: ixUpdate (string)"),
    ("Prefs", ("permissionLevel",), {"enum": ["org", "private", "public", "enterprise"]},
     "TRELLO_API.md §5 and POST /boards prefs_permissionLevel: org|private|public"),
    ("Prefs", ("background",), {"type": "string"},
     "a colour name such as 'blue' (POST /boards prefs_background), not only an id"),
    ("Prefs", ("backgroundImage",), {"type": ["string", "null"]},
     "null for colour backgrounds"),
    ("Prefs", ("backgroundImageScaled",), {"type": ["array", "null"]},
     "null for colour backgrounds"),
    ("Organization", ("idEnterprise",), _nullable({"$ref": SCHEMAS + "TrelloID"}),
     "TRELLO_API.md §5: idEnterprise is an id or null"),
    ("Organization", ("dateLastActivity",), {"type": ["string", "null"]},
     "TRELLO_API.md §5: dateLastActivity is a date or null"),
    ("Organization", ("memberships",), {"type": "array", "items": _MEMBERSHIP},
     "memberships are objects, as on boards (spec: bare ids)"),
    ("TrelloList", ("softLimit",), {"type": ["string", "number", "null"]},
     "TRELLO_API.md §5: softLimit is null or a number"),
    ("Member", ("idEnterprise",), _nullable({"$ref": SCHEMAS + "TrelloID"}),
     "members outside an enterprise have idEnterprise null"),
    ("Card", ("labels",), {"type": "array", "items": {"$ref": SCHEMAS + "Label"}},
     "TRELLO_API.md §5: a card's labels are label objects {id, idBoard, name, color}"),
    ("Card", ("checkItemStates",),
     {"type": "array", "items": {"type": "object", "required": ["idCheckItem", "state"]}},
     "real cards list {idCheckItem, state} objects (spec: strings)"),
    ("CheckItem", ("pos",), {"type": "number"},
     "TRELLO_API.md §4: positions are JSON numbers (spec: string)"),
]  # fmt: skip

# Operations whose declared 200 schema is wrong about the shape itself (not one property).
RESPONSE_FIXES: dict[tuple[str, str], tuple[dict, str]] = {
    ("GET", "/boards/{id}/memberships"): (
        {"type": "array", "items": _MEMBERSHIP},
        "issue 11: board memberships are an array (spec: one Memberships object)",
    ),
    ("POST", "/cards/{id}/attachments"): (
        {"$ref": SCHEMAS + "Attachment"},
        "creating one attachment answers it (spec: an array)",
    ),
    ("GET", "/cards/{id}/attachments/{idAttachment}"): (
        {"$ref": SCHEMAS + "Attachment"},
        "reading one attachment answers it (spec: an array)",
    ),
}

# Where the spec declares too little of an object to check it (Checklist: only its id).
CHECKLIST = {
    "type": "object",
    "required": ["id", "name", "idBoard", "idCard", "pos", "checkItems"],
    "properties": {
        "id": {"$ref": SCHEMAS + "TrelloID"},
        "name": {"type": "string"},
        "idBoard": {"$ref": SCHEMAS + "TrelloID"},
        "idCard": {"$ref": SCHEMAS + "TrelloID"},
        "pos": {"type": "number"},
        "checkItems": {"type": "array", "items": {"$ref": SCHEMAS + "CheckItem"}},
    },
}
MEMBERSHIP_LIST = {"type": "array", "items": _MEMBERSHIP}


def _fields_default(path: str, method: str = "get") -> list[str]:
    for param in SPEC["paths"][path][method].get("parameters", []):
        if param["name"] == "fields":
            default = param["schema"].get("default")
            if default:
                return default.split(",")
            match = re.search(r"\*\*Defaults\*\*: `([^`]+)`", param.get("description", ""))
            if match:
                return [f.strip() for f in match.group(1).split(",")]
    raise LookupError(f"no fields default for {method.upper()} {path}")


def _member_creator_fields() -> list[str]:
    for param in SPEC["paths"]["/boards/{boardId}/actions"]["get"]["parameters"]:
        if param["name"] == "memberCreator_fields":
            return param["schema"]["default"].split(",")
    raise LookupError("no memberCreator_fields default")


def required_fields() -> dict[str, list[str]]:
    """The fields each object must carry when the client asks for no ``fields``."""
    components = SPEC["components"]["schemas"]
    return {
        "Card": ["id", *_fields_default("/cards/{id}")],
        "Board": ["id", *_fields_default("/boards/{id}")],
        "TrelloList": ["id", *_fields_default("/lists/{id}")],
        # GET /members/{id}/organizations defaults to fields=all: everything declared.
        "Organization": list(components["Organization"]["properties"]),
        "Action": [p for p in components["Action"]["properties"]],
        "Member": ["id", *_member_creator_fields()],
        # Card and board parts: everything their schemas declare.
        **{
            name: list(components[name]["properties"])
            for name in ("Label", "CheckItem", "Attachment", "Token", "Webhook", "CustomField")
        },
        "CustomFieldItems": ["id", "idCustomField", "idModel", "modelType"],
    }


def build_components(required: dict[str, list[str]] | None = None) -> dict:
    components = {
        name: to_json_schema(schema) for name, schema in SPEC["components"]["schemas"].items()
    }
    for schema_name, path, replacement, _why in SPEC_FIXES:
        target = components[schema_name]
        for key in path[:-1]:
            target = target["properties"][key]
        assert path[-1] in target["properties"], f"fix for unknown {schema_name}.{path}"
        target["properties"][path[-1]] = replacement
    for schema_name, names in (required or required_fields()).items():
        components[schema_name]["required"] = sorted(set(names))
    action = components["Action"]["properties"]
    action["memberCreator"]["required"] = ["id", *_member_creator_fields()]
    data = action["data"]["properties"]
    data["board"]["required"] = ["id", "name", "shortLink"]
    data["list"]["required"] = ["id", "name"]
    data["card"]["required"] = ["id"]
    return components


COMPONENTS = build_components()


def validator_for(schema: dict, components: dict = COMPONENTS) -> jsonschema.Draft202012Validator:
    """A validator whose ``#/components/...`` refs resolve into the (fixed) spec components."""
    return jsonschema.Draft202012Validator({**schema, "components": {"schemas": components}})


def response_schema(method: str, path: str, fallback: str | dict | None) -> dict:
    """The spec's 200 schema of an operation (unless ``RESPONSE_FIXES`` corrects it), or the
    fallback object (or array of it) or schema."""
    if (method, path) in RESPONSE_FIXES:
        return RESPONSE_FIXES[method, path][0]
    if isinstance(fallback, dict):
        return fallback
    op = SPEC["paths"][path][method.lower()]
    content = op["responses"]["200"].get("content", {}).get("application/json", {})
    if "schema" in content:
        return to_json_schema(content["schema"])
    if fallback is None:
        return {"type": "object"}
    if fallback.endswith("[]"):
        return {"type": "array", "items": {"$ref": SCHEMAS + fallback[:-2]}}
    return {"$ref": SCHEMAS + fallback}


# --- the operations ----------------------------------------------------------------------


@dataclass
class World:
    """Objects made once for the module; each case makes its own if it changes them."""

    api: httpx.Client
    org: dict
    board: dict
    lists: list[dict]
    card: dict
    comment: dict

    def new_card(self) -> dict:
        return self.api.post(
            "/cards", params={"idList": self.lists[0]["id"], "name": "fresh"}
        ).json()

    def new_list(self) -> dict:
        return self.api.post("/lists", params={"name": "A", "idBoard": self.board["id"]}).json()

    def anonymous(self, path: str) -> httpx.Response:
        """GET without credentials."""
        return httpx.get(str(self.api.base_url).rstrip("/") + path)

    def new_comment(self) -> dict:
        card = self.card["id"]
        return self.api.post(f"/cards/{card}/actions/comments", params={"text": "c"}).json()

    @functools.cached_property
    def label(self) -> dict:
        board = self.board["id"]
        label = self.api.post(f"/boards/{board}/labels", params={"name": "L", "color": "red"})
        self.api.post(f"/cards/{self.card['id']}/idLabels", params={"value": label.json()["id"]})
        return label.json()

    @functools.cached_property
    def checklist(self) -> dict:
        card = self.card["id"]
        checklist = self.api.post(f"/cards/{card}/checklists", params={"name": "C"}).json()
        self.api.post(f"/checklists/{checklist['id']}/checkItems", params={"name": "i"})
        return self.api.get(f"/checklists/{checklist['id']}").json()

    @property
    def item(self) -> dict:
        return self.checklist["checkItems"][0]

    @functools.cached_property
    def attachment(self) -> dict:
        url = f"/cards/{self.card['id']}/attachments"
        return self.api.post(url, params={"url": "https://example.com/a"}).json()

    @functools.cached_property
    def custom_field(self) -> dict:
        body = {"idModel": self.board["id"], "modelType": "board", "name": "F", "type": "text"}
        field = self.api.post("/customFields", json=body).json()
        item = f"/cards/{self.card['id']}/customField/{field['id']}/item"
        self.api.put(item, json={"value": {"text": "v"}})
        return field


@pytest.fixture(scope="module")
def seeded() -> Iterator[World]:
    config = SandboxConfig(
        key=TRELLO_TEST_KEY,
        secret=TRELLO_TEST_SECRET,
        members=[
            MemberConfig(
                id=TRELLO_TEST_MEMBER_ID,
                username="testuser",
                full_name="Test User",
                token=TRELLO_TEST_TOKEN,
            )
        ],
        rate_limits=None,
    )
    with (
        ServerThread(create_app(config)) as server,
        httpx.Client(
            base_url=server.url + "/1",
            headers={"Authorization": oauth_header(TRELLO_TEST_KEY, TRELLO_TEST_TOKEN)},
        ) as api,
    ):
        org = api.post("/organizations", params={"displayName": "Spec", "desc": "d"}).json()
        board = api.post("/boards", params={"name": "Spec", "idOrganization": org["id"]}).json()
        lists = api.get(f"/boards/{board['id']}/lists").json()
        card = api.post(
            "/cards", params={"idList": lists[0]["id"], "name": "card", "due": "2030-01-01"}
        ).json()
        comment = api.post(f"/cards/{card['id']}/actions/comments", params={"text": "hello"}).json()
        api.put(f"/cards/{card['id']}", params={"idList": lists[1]["id"]})
        yield World(api, org, board, lists, card, comment)


Call = Callable[[World], httpx.Response]

# (method, spec path, fallback component when the spec has no schema, call)
OPERATIONS: list[tuple[str, str, str | None, Call]] = [
    ("GET", "/members/{id}", None, lambda w: w.api.get("/members/me")),
    ("GET", "/members/{id}/organizations", None, lambda w: w.api.get("/members/me/organizations")),
    ("GET", "/members/{id}/boards", None, lambda w: w.api.get("/members/me/boards")),
    ("POST", "/organizations", None,
     lambda w: w.api.post("/organizations", params={"displayName": "New"})),
    ("GET", "/organizations/{id}", None, lambda w: w.api.get(f"/organizations/{w.org['id']}")),
    ("PUT", "/organizations/{id}", None,
     lambda w: w.api.put(f"/organizations/{w.org['id']}", params={"desc": "changed"})),
    ("DELETE", "/organizations/{id}", None,
     lambda w: w.api.delete(
         "/organizations/" + w.api.post("/organizations", params={"displayName": "X"}).json()["id"]
     )),
    ("GET", "/organizations/{id}/boards", None,
     lambda w: w.api.get(f"/organizations/{w.org['id']}/boards")),
    ("GET", "/organizations/{id}/actions", "Action[]",
     lambda w: w.api.get(f"/organizations/{w.org['id']}/actions")),
    ("POST", "/boards/", "Board", lambda w: w.api.post("/boards/", params={"name": "B"})),
    ("GET", "/boards/{id}", None, lambda w: w.api.get(f"/boards/{w.board['id']}")),
    ("PUT", "/boards/{id}", "Board",
     lambda w: w.api.put(f"/boards/{w.board['id']}", params={"desc": "changed"})),
    ("DELETE", "/boards/{id}", None,
     lambda w: w.api.delete("/boards/" + w.api.post("/boards", params={"name": "D"}).json()["id"])),
    ("GET", "/boards/{id}/lists", None, lambda w: w.api.get(f"/boards/{w.board['id']}/lists")),
    ("GET", "/boards/{id}/lists/{filter}", "TrelloList[]",
     lambda w: w.api.get(f"/boards/{w.board['id']}/lists/all")),
    ("POST", "/boards/{id}/lists", None,
     lambda w: w.api.post(f"/boards/{w.board['id']}/lists", params={"name": "L"})),
    ("GET", "/boards/{id}/cards", "Card[]", lambda w: w.api.get(f"/boards/{w.board['id']}/cards")),
    ("GET", "/boards/{id}/cards/{filter}", "Card[]",
     lambda w: w.api.get(f"/boards/{w.board['id']}/cards/all")),
    ("GET", "/boards/{boardId}/actions", "Action[]",
     lambda w: w.api.get(f"/boards/{w.board['id']}/actions")),
    ("POST", "/lists", "TrelloList",
     lambda w: w.api.post("/lists", params={"name": "L", "idBoard": w.board["id"]})),
    ("GET", "/lists/{id}", "TrelloList", lambda w: w.api.get(f"/lists/{w.lists[0]['id']}")),
    ("PUT", "/lists/{id}", "TrelloList",
     lambda w: w.api.put(f"/lists/{w.lists[2]['id']}", params={"name": "Finished"})),
    ("PUT", "/lists/{id}/{field}", "TrelloList",
     lambda w: w.api.put(f"/lists/{w.lists[2]['id']}/name", params={"value": "Done"})),
    ("PUT", "/lists/{id}/closed", "TrelloList",
     lambda w: w.api.put(f"/lists/{w.new_list()['id']}/closed", params={"value": "true"})),
    ("GET", "/lists/{id}/cards", None, lambda w: w.api.get(f"/lists/{w.lists[1]['id']}/cards")),
    ("GET", "/lists/{id}/board", "Board", lambda w: w.api.get(f"/lists/{w.lists[0]['id']}/board")),
    ("GET", "/lists/{id}/actions", "Action[]",
     lambda w: w.api.get(f"/lists/{w.lists[0]['id']}/actions")),
    ("POST", "/cards", None,
     lambda w: w.api.post("/cards", params={"idList": w.lists[0]["id"], "name": "n"})),
    ("GET", "/cards/{id}", None, lambda w: w.api.get(f"/cards/{w.card['id']}")),
    ("PUT", "/cards/{id}", None,
     lambda w: w.api.put(
         f"/cards/{w.new_card()['id']}", params={"name": "m", "start": "2030-01-01"}
     )),
    ("DELETE", "/cards/{id}", None, lambda w: w.api.delete(f"/cards/{w.new_card()['id']}")),
    ("GET", "/cards/{id}/actions", None, lambda w: w.api.get(f"/cards/{w.card['id']}/actions")),
    ("GET", "/cards/{id}/board", "Board", lambda w: w.api.get(f"/cards/{w.card['id']}/board")),
    ("GET", "/cards/{id}/list", "TrelloList", lambda w: w.api.get(f"/cards/{w.card['id']}/list")),
    ("POST", "/cards/{id}/actions/comments", None,
     lambda w: w.api.post(f"/cards/{w.card['id']}/actions/comments", params={"text": "t"})),
    ("PUT", "/cards/{id}/actions/{idAction}/comments", "Action",
     lambda w: w.api.put(
         f"/cards/{w.card['id']}/actions/{w.new_comment()['id']}/comments", params={"text": "u"}
     )),
    ("DELETE", "/cards/{id}/actions/{idAction}/comments", None,
     lambda w: w.api.delete(f"/cards/{w.card['id']}/actions/{w.new_comment()['id']}/comments")),
    ("GET", "/actions/{id}", "Action", lambda w: w.api.get(f"/actions/{w.comment['id']}")),
    ("PUT", "/actions/{id}", "Action",
     lambda w: w.api.put(f"/actions/{w.new_comment()['id']}", params={"text": "v"})),
    ("PUT", "/actions/{id}/text", "Action",
     lambda w: w.api.put(f"/actions/{w.new_comment()['id']}/text", params={"value": "w"})),
    ("DELETE", "/actions/{id}", None, lambda w: w.api.delete(f"/actions/{w.new_comment()['id']}")),
    ("GET", "/actions/{id}/board", None, lambda w: w.api.get(f"/actions/{w.comment['id']}/board")),
    ("GET", "/actions/{id}/card", None, lambda w: w.api.get(f"/actions/{w.comment['id']}/card")),
    ("GET", "/actions/{id}/list", None, lambda w: w.api.get(f"/actions/{w.comment['id']}/list")),
    ("GET", "/actions/{id}/memberCreator", None,
     lambda w: w.api.get(f"/actions/{w.comment['id']}/memberCreator")),
    ("GET", "/actions/{id}/organization", None,
     lambda w: w.api.get(f"/actions/{w.comment['id']}/organization")),
    # labels
    ("GET", "/boards/{id}/labels", "Label[]",
     lambda w: w.api.get(f"/boards/{w.board['id']}/labels")),
    ("POST", "/boards/{id}/labels", "Label",
     lambda w: w.api.post(f"/boards/{w.board['id']}/labels", params={"name": "n", "color": "sky"})),
    ("POST", "/labels", "Label",
     lambda w: w.api.post("/labels",
                          params={"name": "n", "color": "null", "idBoard": w.board["id"]})),
    ("GET", "/labels/{id}", "Label", lambda w: w.api.get(f"/labels/{w.label['id']}")),
    ("PUT", "/labels/{id}", "Label",
     lambda w: w.api.put(f"/labels/{w.label['id']}", params={"name": "renamed"})),
    ("POST", "/cards/{id}/idLabels", {"type": "array", "items": {"$ref": SCHEMAS + "TrelloID"}},
     lambda w: w.api.post(f"/cards/{w.new_card()['id']}/idLabels",
                          params={"value": w.label["id"]})),
    # checklists
    ("GET", "/cards/{id}/checklists", {"type": "array", "items": CHECKLIST},
     lambda w: (w.checklist, w.api.get(f"/cards/{w.card['id']}/checklists"))[1]),
    ("POST", "/cards/{id}/checklists", CHECKLIST,
     lambda w: w.api.post(f"/cards/{w.card['id']}/checklists", params={"name": "n"})),
    ("POST", "/checklists", CHECKLIST,
     lambda w: w.api.post("/checklists", params={"idCard": w.card["id"]})),
    ("GET", "/boards/{id}/checklists", {"type": "array", "items": CHECKLIST},
     lambda w: (w.checklist, w.api.get(f"/boards/{w.board['id']}/checklists"))[1]),
    ("GET", "/checklists/{id}", CHECKLIST, lambda w: w.api.get(f"/checklists/{w.checklist['id']}")),
    ("PUT", "/checklists/{id}", CHECKLIST,
     lambda w: w.api.put(f"/checklists/{w.checklist['id']}", params={"name": "C2"})),
    ("GET", "/checklists/{id}/checkItems", "CheckItem[]",
     lambda w: w.api.get(f"/checklists/{w.checklist['id']}/checkItems")),
    ("POST", "/checklists/{id}/checkItems", "CheckItem",
     lambda w: w.api.post(f"/checklists/{w.checklist['id']}/checkItems", params={"name": "j"})),
    ("GET", "/checklists/{id}/checkItems/{idCheckItem}", "CheckItem",
     lambda w: w.api.get(f"/checklists/{w.checklist['id']}/checkItems/{w.item['id']}")),
    ("PUT", "/cards/{id}/checkItem/{idCheckItem}", "CheckItem",
     lambda w: w.api.put(f"/cards/{w.card['id']}/checkItem/{w.item['id']}",
                         params={"state": "complete"})),
    ("GET", "/cards/{id}/checkItemStates",
     {"type": "array", "items": {"type": "object", "required": ["idCheckItem", "state"]}},
     lambda w: (w.item, w.api.get(f"/cards/{w.card['id']}/checkItemStates"))[1]),
    # members
    ("GET", "/boards/{id}/members", "Member[]",
     lambda w: w.api.get(f"/boards/{w.board['id']}/members", params={"fields": "all"})),
    ("GET", "/boards/{id}/memberships", None,
     lambda w: w.api.get(f"/boards/{w.board['id']}/memberships")),
    ("GET", "/members/{id}/cards", None,
     lambda w: (w.api.put(f"/cards/{w.card['id']}", params={"idMembers": TRELLO_TEST_MEMBER_ID}),
                w.api.get("/members/me/cards"))[1]),
    ("GET", "/organizations/{id}/members", None,
     lambda w: w.api.get(f"/organizations/{w.org['id']}/members", params={"fields": "all"})),
    # attachments
    ("GET", "/cards/{id}/attachments", None,
     lambda w: (w.attachment, w.api.get(f"/cards/{w.card['id']}/attachments"))[1]),
    ("POST", "/cards/{id}/attachments", None,
     lambda w: w.api.post(f"/cards/{w.card['id']}/attachments", params={"url": "http://x.org"})),
    ("GET", "/cards/{id}/attachments/{idAttachment}", None,
     lambda w: w.api.get(f"/cards/{w.card['id']}/attachments/{w.attachment['id']}")),
    # tokens
    ("GET", "/tokens/{token}", None, lambda w: w.api.get(f"/tokens/{TRELLO_TEST_TOKEN}")),
    ("GET", "/tokens/{token}/member", None,
     lambda w: w.api.get(f"/tokens/{TRELLO_TEST_TOKEN}/member")),
    # custom fields
    ("GET", "/boards/{id}/customFields", None,
     lambda w: (w.custom_field, w.api.get(f"/boards/{w.board['id']}/customFields"))[1]),
    ("POST", "/customFields", None,
     lambda w: w.api.post("/customFields", json={"idModel": w.board["id"], "modelType": "board",
                                                 "name": "G", "type": "checkbox"})),
    ("GET", "/customFields/{id}", None,
     lambda w: w.api.get(f"/customFields/{w.custom_field['id']}")),
    ("GET", "/cards/{id}/customFieldItems", None,
     lambda w: (w.custom_field, w.api.get(f"/cards/{w.card['id']}/customFieldItems"))[1]),
    ("PUT", "/cards/{idCard}/customField/{idCustomField}/item", "CustomFieldItems",
     lambda w: w.api.put(f"/cards/{w.card['id']}/customField/{w.custom_field['id']}/item",
                         json={"value": {"text": "w"}})),
    # other routes independent clients call
    ("GET", "/boards/{id}/cards/{filter}", "Card",
     lambda w: w.api.get(f"/boards/{w.board['id']}/cards/{w.card['id']}")),
]  # fmt: skip

# Per-field reads answer the object cut to that field, as the spec's schema (the whole
# object) allows; no {"_value": …} wrapper.
VALUE_OPERATIONS: list[tuple[str, str, str, Call]] = [
    ("/cards/{id}/{field}", "Card", "name", lambda w: w.api.get(f"/cards/{w.card['id']}/name")),
    ("/boards/{id}/{field}", "Board", "name",
     lambda w: w.api.get(f"/boards/{w.board['id']}/name")),
    ("/members/{id}/{field}", "Member", "username", lambda w: w.api.get("/members/me/username")),
    ("/organizations/{id}/{field}", "Organization", "name",
     lambda w: w.api.get(f"/organizations/{w.org['id']}/name")),
]  # fmt: skip


def _ok_json(reply: httpx.Response) -> Any:
    assert reply.status_code == 200, f"{reply.request.url.path}: {reply.status_code} {reply.text}"
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    return reply.json()


@pytest.mark.parametrize(
    ("method", "path", "fallback", "call"),
    OPERATIONS,
    ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS],
)
def test_operation_answers_its_schema(
    seeded: World, method: str, path: str, fallback: str | None, call: Call
) -> None:
    assert method.lower() in SPEC["paths"][path], f"{method} {path} is not in the spec"
    body = _ok_json(call(seeded))
    if isinstance(body, list):
        assert body, f"{method} {path}: validate a non-empty list"
    errors = sorted(
        validator_for(response_schema(method, path, fallback)).iter_errors(body),
        key=lambda e: list(e.absolute_path),
    )
    assert not errors, "\n".join(
        f"{method} {path}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )


@pytest.mark.parametrize(
    ("path", "component", "field", "call"),
    VALUE_OPERATIONS,
    ids=[p for p, *_ in VALUE_OPERATIONS],
)
def test_per_field_reads_answer_the_object_cut_to_the_field(
    seeded: World, path: str, component: str, field: str, call: Call
) -> None:
    assert "get" in SPEC["paths"][path]
    body = _ok_json(call(seeded))
    assert set(body) == {"id", field} and isinstance(body[field], str)
    loose = {**COMPONENTS, component: {**COMPONENTS[component], "required": []}}
    assert not list(validator_for({"$ref": SCHEMAS + component}, loose).iter_errors(body))


def test_batch_answers_status_keyed_objects(seeded: World) -> None:
    urls = f"/cards/{seeded.card['id']},/boards/{seeded.board['id']},/actions/{'0' * 24}"
    body = _ok_json(seeded.api.get("/batch", params={"urls": urls}))
    assert [list(item) for item in body] == [["200"], ["200"], ["404"]]
    card_schema = validator_for({"$ref": SCHEMAS + "Card"})
    board_schema = validator_for({"$ref": SCHEMAS + "Board"})
    assert not list(card_schema.iter_errors(body[0]["200"]))
    assert not list(board_schema.iter_errors(body[1]["200"]))


def test_every_spec_fix_is_still_needed() -> None:
    """A fix for a property the spec already gets right would hide nothing: drop it then."""
    raw = SPEC["components"]["schemas"]
    for schema_name, path, replacement, why in SPEC_FIXES:
        original = raw[schema_name]["properties"][path[-1]]
        assert to_json_schema(original) != replacement, f"{schema_name}.{path}: {why}"


# --- the validator must catch what it is there to catch -----------------------------------


def test_self_check_missing_field_or_wrong_type_fails(seeded: World) -> None:
    card = _ok_json(seeded.api.get(f"/cards/{seeded.card['id']}"))
    schema = response_schema("GET", "/cards/{id}", None)
    assert not list(validator_for(schema).iter_errors(card))
    for field in ("name", "idList", "pos", "badges", "url"):
        broken = {k: v for k, v in card.items() if k != field}
        assert list(validator_for(schema).iter_errors(broken)), f"missing {field} went unseen"
    for field, wrong in (("closed", "no"), ("pos", "top"), ("idBoard", "xyz"), ("labels", {})):
        broken = {**card, field: wrong}
        assert list(validator_for(schema).iter_errors(broken)), f"bad {field} went unseen"
    action = _ok_json(seeded.api.get(f"/actions/{seeded.comment['id']}"))
    action_schema = response_schema("GET", "/actions/{id}", "Action")
    assert not list(validator_for(action_schema).iter_errors(action))
    no_creator = copy.deepcopy(action)
    del no_creator["memberCreator"]["fullName"]
    assert list(validator_for(action_schema).iter_errors(no_creator))
    no_board_name = copy.deepcopy(action)
    del no_board_name["data"]["board"]["name"]
    assert list(validator_for(action_schema).iter_errors(no_board_name))
    board = _ok_json(seeded.api.get(f"/boards/{seeded.board['id']}"))
    board_schema = response_schema("GET", "/boards/{id}", None)
    assert list(validator_for(board_schema).iter_errors({**board, "prefs": "private"}))
    assert list(
        validator_for(board_schema).iter_errors({k: v for k, v in board.items() if k != "prefs"})
    )


def test_required_fields_come_from_the_spec() -> None:
    required = required_fields()
    assert {"badges", "idList", "pos", "shortUrl", "url", "due", "start"} <= set(required["Card"])
    assert {"name", "closed", "idOrganization", "prefs", "url"} <= set(required["Board"])
    assert set(required["TrelloList"]) == {"id", "name", "closed", "idBoard", "pos"}
    assert {"fullName", "username", "avatarHash"} <= set(required["Member"])


# --- error answers, as TRELLO_API.md §8 describes them -----------------------------------

ERRORS: list[tuple[str, Callable[[httpx.Client, World], httpx.Response], int, str]] = [
    ("malformed id in the path", lambda a, w: a.get("/cards/12345"), 400, "invalid id"),
    ("bad parameter value", lambda a, w: a.post("/cards", params={"idList": "x"}), 400,
     "invalid value for idList"),
    ("missing parameter", lambda a, w: a.post("/boards"), 400, "invalid value for name"),
    ("no such object", lambda a, w: a.get(f"/cards/{'0' * 24}"), 404,
     "The requested resource was not found."),
    ("no such action", lambda a, w: a.get(f"/actions/{'0' * 24}"), 404, "model not found"),
    ("unknown route", lambda a, w: a.get("/nowhere"), 404, "The requested resource was not found."),
    ("key missing", lambda a, w: w.anonymous("/members/me"), 401, "invalid key"),
    ("bad token", lambda a, w: a.get("/members/me",
                                     headers={"Authorization": oauth_header(TRELLO_TEST_KEY, "x")}),
     401, "invalid token"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "call", "status", "text"), ERRORS, ids=[case for case, *_ in ERRORS]
)
def test_error_answers_follow_trello(
    seeded: World, case: str, call: Callable, status: int, text: str
) -> None:
    reply = call(seeded.api, seeded)
    assert (reply.status_code, reply.text) == (status, text), case
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


def test_self_check_parts_missing_field_or_wrong_type_fails(seeded: World) -> None:
    label = _ok_json(seeded.api.get(f"/labels/{seeded.label['id']}"))
    label_schema = validator_for({"$ref": SCHEMAS + "Label"})
    assert not list(label_schema.iter_errors(label))
    assert list(label_schema.iter_errors({k: v for k, v in label.items() if k != "color"}))
    assert list(label_schema.iter_errors({**label, "color": "mauve"}))
    checklist = _ok_json(seeded.api.get(f"/checklists/{seeded.checklist['id']}"))
    assert not list(validator_for(CHECKLIST).iter_errors(checklist))
    broken = copy.deepcopy(checklist)
    broken["checkItems"][0]["state"] = "done"
    assert list(validator_for(CHECKLIST).iter_errors(broken))
    del broken["checkItems"]
    assert list(validator_for(CHECKLIST).iter_errors(broken))
    memberships = _ok_json(seeded.api.get(f"/boards/{seeded.board['id']}/memberships"))
    fixed = response_schema("GET", "/boards/{id}/memberships", None)
    assert not list(validator_for(fixed).iter_errors(memberships))
    assert list(validator_for(fixed).iter_errors(memberships[0]))
