"""``/1/members/{idMember}`` (``me``, an id or a username): the member, workspaces, boards."""

from __future__ import annotations

from fastapi import APIRouter

from pmbridge.sandbox.trello import render
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.organizations import ORGANIZATION_FILTERS, organizations_of
from pmbridge.sandbox.trello.params import ParamsDep
from pmbridge.sandbox.trello.routes.common import WorldDep, answer, fields_of, value_answer

router = APIRouter(tags=["members"])

MEMBER_BOARD_FILTERS = ("all", "open", "closed", "members", "organization", "public")


@router.get("/members/{id_member}")
async def get_member(
    id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    member = world.find_member(id_member, auth.member)
    body = world.member_json(member)
    return answer(
        fields_of(body, params, all_fields=render.MEMBER_FIELDS, default=render.MEMBER_FIELDS)
    )


@router.get("/members/{id_member}/organizations")
async def get_member_organizations(
    id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    member = world.find_member(id_member, auth.member)
    filter_ = params.choice("filter", ORGANIZATION_FILTERS, "all")
    return answer(
        [
            fields_of(
                world.organization_json(org),
                params,
                all_fields=render.ORGANIZATION_FIELDS,
                default=render.ORGANIZATION_FIELDS,
            )
            for org in organizations_of(world, member, filter_)
        ]
    )


@router.get("/members/{id_member}/boards")
async def get_member_boards(
    id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    member = world.find_member(id_member, auth.member)
    filters = str(params.raw("filter", "all")).split(",")
    if any(f not in MEMBER_BOARD_FILTERS for f in filters):
        raise invalid_value("filter")
    with world.lock:
        boards = [b for b in world.boards.values() if member.id in b["memberships"]]
    if "all" not in filters:
        tests = {
            "open": lambda b: not b["closed"],
            "closed": lambda b: b["closed"],
            "members": lambda b: True,
            "organization": lambda b: b["permissionLevel"] == "org",
            "public": lambda b: b["permissionLevel"] == "public",
        }
        boards = [b for b in boards if any(tests[f](b) for f in filters)]
    return answer(
        [
            fields_of(
                world.board_json(board),
                params,
                all_fields=render.BOARD_FIELDS,
                default=render.BOARD_FIELDS,
            )
            for board in boards
        ]
    )


@router.get("/members/{id_member}/{field}")
async def get_member_field(
    id_member: str, field: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    member = world.find_member(id_member, auth.member)
    found = value_answer(world.member_json(member), field)
    if found is None:
        raise not_found()
    return found
