"""``/1/organizations``: create, read, change and delete workspaces; list their boards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import feeds, organizations, render
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import ParamsDep
from pmbridge.sandbox.trello.routes.actions import feed_answer
from pmbridge.sandbox.trello.routes.common import DELETED, WorldDep, answer, fields_of, value_answer

router = APIRouter(tags=["organizations"])


def _org_answer(world: WorldDep, org: dict, params: ParamsDep) -> TrelloJSON:
    return answer(
        fields_of(
            world.organization_json(org),
            params,
            all_fields=render.ORGANIZATION_FIELDS,
            default=render.ORGANIZATION_FIELDS,
        )
    )


@router.post("/organizations")
async def create_organization(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    display_name = params.text("displayName", min_len=1, required=True)
    assert display_name is not None
    org = organizations.create_organization(
        world,
        auth.member,
        display_name=display_name,
        name=params.text("name"),
        desc=params.text("desc") or "",
        website=params.raw("website"),
    )
    return answer(world.organization_json(org))


@router.get("/organizations/{id_org}")
async def get_organization(
    id_org: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return _org_answer(world, world.find_organization(id_org), params)


@router.put("/organizations/{id_org}")
async def update_organization(
    id_org: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    org = world.find_organization(id_org)
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", required=True)
    if params.has("displayName"):
        changes["displayName"] = params.text("displayName", min_len=1, required=True)
    if params.has("desc"):
        changes["desc"] = params.text("desc") or ""
    if params.has("website"):
        changes["website"] = params.raw("website")
    for key in ("prefs/permissionLevel", "prefs_permissionLevel"):
        if params.has(key):
            changes["permissionLevel"] = params.text(key, required=True)
    org = organizations.update_organization(world, auth.member, org, changes)
    return answer(world.organization_json(org))


@router.delete("/organizations/{id_org}")
async def delete_organization(id_org: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    org = world.find_organization(id_org)
    organizations.delete_organization(world, auth.member, org)
    return answer(DELETED)


@router.get("/organizations/{id_org}/boards")
async def get_organization_boards(
    id_org: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    org = world.find_organization(id_org)
    filters = [f.strip() for f in str(params.raw("filter", "all")).split(",") if f.strip()]
    if not filters or any(f not in organizations.BOARD_FILTERS for f in filters):
        raise invalid_value("filter")
    boards = organizations.boards_of_organization(world, org, filters, auth.member)
    return answer(
        [
            fields_of(
                world.board_json(board),
                params,
                all_fields=render.BOARD_FIELDS,
                default=render.BOARD_FIELDS,
            )
            for board in sorted(boards, key=lambda b: b["id"])
        ]
    )


@router.get("/organizations/{id_org}/actions")
async def get_organization_actions(
    id_org: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    org = world.find_organization(id_org)
    query = feeds.parse_feed_query(params)
    return feed_answer(world, feeds.organization_feed(world, org, query), params)


@router.get("/organizations/{id_org}/{field}")
async def get_organization_field(
    id_org: str, field: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    found = value_answer(world.organization_json(world.find_organization(id_org)), field)
    if found is None:
        raise not_found()
    return found
