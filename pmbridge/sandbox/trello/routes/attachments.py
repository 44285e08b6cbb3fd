"""``/1/cards/{id}/attachments``: URL attachments on a card."""

from __future__ import annotations

from fastapi import APIRouter

from pmbridge.sandbox.trello import attachments, render_parts
from pmbridge.sandbox.trello.answers import TrelloJSON
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import MAX_TEXT, Params, ParamsDep
from pmbridge.sandbox.trello.routes.common import DELETED, WorldDep, answer, fields_of

router = APIRouter(tags=["attachments"])


def attachment_body(attachment: dict, params: Params) -> dict:
    fields = render_parts.ATTACHMENT_FIELDS
    return fields_of(
        render_parts.attachment_json(attachment), params, all_fields=fields, default=fields
    )


@router.get("/cards/{id_card}/attachments")
async def get_attachments(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    found = attachments.card_attachments(world, card)
    if params.choice("filter", ("false", "cover", "true"), "false") == "cover":
        found = []  # the sandbox sets no attachment as a card cover
    return answer([attachment_body(a, params) for a in found])


@router.post("/cards/{id_card}/attachments")
async def create_attachment(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    url = attachments.check_url(params.text("url", min_len=1, max_len=MAX_TEXT))
    params.boolean("setCover")  # accepted and checked; the sandbox keeps no covers
    attachment = attachments.add_attachment(
        world,
        auth.member,
        card,
        url=url,
        name=params.text("name", max_len=256),
        mime_type=params.text("mimeType", max_len=256),
    )
    return answer(attachment_body(attachment, Params({})))


@router.get("/cards/{id_card}/attachments/{id_attachment}")
async def get_attachment(
    id_card: str, id_attachment: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    return answer(attachment_body(attachments.find_attachment(world, card, id_attachment), params))


@router.delete("/cards/{id_card}/attachments/{id_attachment}")
async def delete_attachment(
    id_card: str, id_attachment: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    attachment = attachments.find_attachment(world, card, id_attachment)
    attachments.delete_attachment(world, auth.member, card, attachment)
    return answer(DELETED)
