"""``/1/search``: cards, boards, workspaces and members by words, on the caller's boards.

Answers an object ``{options, boards, cards, members, organizations, actions}`` as real
Trello does (the OpenAPI's array is a known defect, TRELLO_API.md §6). A term matches a whole
word of a name or description, case-insensitively; with ``partial=true`` a word's beginning.
Search operators (``is:open``, ``board:…``) are not understood: they are searched as words.
"""

from __future__ import annotations

import re

from fastapi import APIRouter

from pmbridge.sandbox.trello import render
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.routes.common import WorldDep, answer, fields_of
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["search"])

MODEL_TYPES = ("actions", "boards", "cards", "members", "organizations")
_WORD = re.compile(r"\w+")


def _matches(terms: list[str], texts: list[str], partial: bool) -> bool:
    words = {w for text in texts for w in _WORD.findall(text.lower())}
    if partial:
        return all(any(w.startswith(t) for w in words) for t in terms)
    return all(t in words for t in terms)


def _model_types(params: Params) -> list[str]:
    raw = str(params.raw("modelTypes", "all") or "all")
    chosen = [t.strip() for t in raw.split(",") if t.strip()]
    if "all" in chosen:
        return list(MODEL_TYPES)
    if any(t not in MODEL_TYPES for t in chosen):
        raise invalid_value("modelTypes")
    return chosen


def _board_scope(world: World, params: Params, member_id: str) -> list[dict]:
    boards = [b for b in world.boards.values() if member_id in b["memberships"]]
    wanted = str(params.raw("idBoards", "mine") or "mine")
    if wanted != "mine":
        ids = {i.strip().lower() for i in wanted.split(",")}
        boards = [b for b in boards if b["id"] in ids]
    return boards


@router.get("/search")
async def search(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    query = params.text("query", min_len=1, required=True)
    assert query is not None
    types = _model_types(params)
    partial = params.flag("partial", False)
    terms = [t.lower() for t in _WORD.findall(query)]
    cards_limit = params.integer("cards_limit", default=10, low=1, high=1000)
    cards_page = params.integer("cards_page", default=0, low=0, high=100)
    boards_limit = params.integer("boards_limit", default=10, low=1, high=1000)
    body: dict = {
        "options": {
            "terms": [{"text": t} for t in terms],
            "modifiers": [],
            "modelTypes": types,
            "partial": partial,
        },
        **{kind: [] for kind in MODEL_TYPES},
    }
    with world.lock:
        boards = _board_scope(world, params, auth.member.id)
        board_ids = {b["id"] for b in boards}
        if "boards" in types:
            found = [b for b in boards if _matches(terms, [b["name"], b["desc"]], partial)]
            body["boards"] = [
                fields_of(
                    world.board_json(b),
                    params,
                    all_fields=render.BOARD_FIELDS,
                    default=("name", "idOrganization"),
                    name="board_fields",
                )
                for b in found[:boards_limit]
            ]
        if "cards" in types:
            found = sorted(
                (
                    c
                    for c in world.cards.values()
                    if c["idBoard"] in board_ids
                    and _matches(terms, [c["name"], c["desc"]], partial)
                ),
                key=lambda c: c["id"],
                reverse=True,
            )
            start = cards_page * cards_limit
            body["cards"] = [
                fields_of(
                    world.card_json(c),
                    params,
                    all_fields=render.CARD_FIELDS,
                    default=render.CARD_FIELDS,
                    name="card_fields",
                )
                for c in found[start : start + cards_limit]
            ]
        if "organizations" in types:
            orgs = [o for o in world.organizations.values() if auth.member.id in o["memberships"]]
            body["organizations"] = [
                fields_of(
                    world.organization_json(o),
                    params,
                    all_fields=render.ORGANIZATION_FIELDS,
                    default=("name", "displayName"),
                    name="organization_fields",
                )
                for o in orgs
                if _matches(terms, [o["displayName"], o["name"], o["desc"]], partial)
            ]
        if "members" in types:
            body["members"] = [
                fields_of(
                    world.member_json(m),
                    params,
                    all_fields=render.MEMBER_FIELDS,
                    default=("avatarHash", "fullName", "initials", "username", "confirmed"),
                    name="member_fields",
                )
                for m in world.members.values()
                if _matches(terms, [m.full_name, m.username], partial)
            ]
    return answer(body)
