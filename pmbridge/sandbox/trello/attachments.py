"""URL attachments on cards: attach a link, read it, delete it.

Actions as Trello records them: ``addAttachmentToCard`` and ``deleteAttachmentFromCard``,
each with ``data.card``, ``data.board`` and ``data.attachment`` (``{id, name, url}`` on add,
``{id, name}`` on delete). File uploads are not kept: a request without a ``url`` is refused
as Trello refuses a missing value.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pmbridge.sandbox.trello.activity import card_data, touch
from pmbridge.sandbox.trello.answers import invalid_value, not_found
from pmbridge.sandbox.trello.ids import is_object_id
from pmbridge.sandbox.trello.positions import new_position
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World


def card_attachments(world: World, card: dict) -> list[dict]:
    with world.lock:
        return [world.attachments[i] for i in card.get("idAttachments", ())]


def find_attachment(world: World, card: dict, attachment_id: str) -> dict:
    if not is_object_id(attachment_id):
        raise invalid_value("idAttachment")
    for attachment in card_attachments(world, card):
        if attachment["id"] == attachment_id.lower():
            return attachment
    raise not_found()


def check_url(url: str | None) -> str:
    """An absolute http(s) URL, or 400 ``invalid value for url``."""
    if url is None:
        raise invalid_value("url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_value("url")
    return url.strip()


def add_attachment(
    world: World,
    actor: Member,
    card: dict,
    *,
    url: str,
    name: str | None = None,
    mime_type: str | None = None,
) -> dict:
    with world.transaction():
        now = world.now()
        siblings = card_attachments(world, card)
        attachment = {
            "id": world.ids.new_id(now),
            "idCard": card["id"],
            "idMember": actor.id,
            "name": name or url,
            "url": url,
            "mimeType": mime_type or "",
            "date": world.timestamp(now),
            "pos": new_position((a["pos"] for a in siblings), None, "bottom"),
        }
        world.attachments[attachment["id"]] = attachment
        card.setdefault("idAttachments", []).append(attachment["id"])
        touch(world, card, now)
        data = {
            **card_data(world, card),
            "attachment": {
                "id": attachment["id"],
                "name": attachment["name"],
                "url": attachment["url"],
            },
        }
        world.record(actor, "addAttachmentToCard", data, now)
    return attachment


def delete_attachment(world: World, actor: Member, card: dict, attachment: dict) -> None:
    with world.transaction():
        now = world.now()
        world.attachments.pop(attachment["id"], None)
        card["idAttachments"].remove(attachment["id"])
        touch(world, card, now)
        data = {
            **card_data(world, card),
            "attachment": {"id": attachment["id"], "name": attachment["name"]},
        }
        world.record(actor, "deleteAttachmentFromCard", data, now)
