"""The JSON of an action: its ``display`` (translation key and entities) and its
``memberCreator``, as ``GET /1/actions/{id}`` answers it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pmbridge.sandbox.trello.render import (
    MEMBER_CREATOR_FIELDS,
    Member,
    member_creator_json,
    select,
)

# Display translation keys of the action types the sandbox records.
_TRANSLATION_KEYS = {
    "createOrganization": "action_create_organization",
    "updateOrganization": "action_update_organization",
    "createBoard": "action_create_board",
    "updateBoard": "action_update_board",
    "createList": "action_added_list_to_board",
    "updateList": "action_update_list",
    "createCard": "action_create_card",
    "updateCard": "action_changed_a_card",
    "moveCardToBoard": "action_move_card_to_board",
    "moveCardFromBoard": "action_move_card_from_board",
    "deleteCard": "action_delete_card",
    "commentCard": "action_comment_on_card",
    "updateComment": "action_edit_comment_on_card",
    "deleteComment": "action_delete_comment_on_card",
    "createLabel": "action_create_label",
    "updateLabel": "action_update_label",
    "deleteLabel": "action_delete_label",
    "addLabelToCard": "action_add_label_to_card",
    "removeLabelFromCard": "action_remove_label_from_card",
    "addChecklistToCard": "action_add_checklist_to_card",
    "removeChecklistFromCard": "action_remove_checklist_from_card",
    "updateChecklist": "action_renamed_checklist",
    "createCheckItem": "action_add_checkitem_to_checklist",
    "updateCheckItemStateOnCard": "action_completed_checkitem",
    "updateCheckItem": "action_renamed_checkitem",
    "deleteCheckItem": "action_deleted_checkitem",
    "addMemberToCard": "action_add_member_to_card",
    "removeMemberFromCard": "action_remove_member_from_card",
    "addMemberToBoard": "action_add_member_to_board",
    "addAttachmentToCard": "action_add_attachment_to_card",
    "deleteAttachmentFromCard": "action_delete_attachment_from_card",
    "updateCustomFieldItem": "action_update_custom_field_item",
    "createCustomField": "action_create_custom_field",
}


def _display(action: dict, creator: Member | None) -> dict:
    data = action["data"]
    entities: dict[str, Any] = {}
    if "card" in data:
        entities["card"] = {
            "type": "card",
            "id": data["card"]["id"],
            "shortLink": data["card"].get("shortLink"),
            "text": data["card"].get("name", ""),
        }
    if "list" in data:
        entities["list"] = {"type": "list", "id": data["list"]["id"], "text": data["list"]["name"]}
    if "board" in data:
        entities["board"] = {
            "type": "board",
            "id": data["board"]["id"],
            "shortLink": data["board"].get("shortLink"),
            "text": data["board"].get("name", ""),
        }
    if "organization" in data:
        entities["organization"] = {
            "type": "organization",
            "id": data["organization"]["id"],
            "text": data["organization"].get("name", ""),
        }
    if action["type"] == "commentCard":
        entities["comment"] = {"type": "comment", "text": data["text"]}
    if creator is not None:
        entities["memberCreator"] = {
            "type": "member",
            "id": creator.id,
            "username": creator.username,
            "text": creator.full_name,
        }
    entities = {
        name: {k: v for k, v in entity.items() if v is not None}
        for name, entity in entities.items()
    }
    key = _TRANSLATION_KEYS.get(action["type"], "action_" + action["type"])
    if action["type"] == "updateCard" and "listAfter" in data:
        key = "action_move_card_from_list_to_list"
    elif action["type"] == "updateCard" and "closed" in data.get("old", {}):
        key = "action_archived_card" if data["card"].get("closed") else "action_sent_card_to_board"
    return {"translationKey": key, "entities": entities}


def action_json(
    action: dict,
    creator: Member | None,
    *,
    with_creator: bool = True,
    with_display: bool = True,
    creator_fields: Sequence[str] = MEMBER_CREATOR_FIELDS,
) -> dict:
    """The action as GET /actions/{id} answers it (memberCreator and display included)."""
    body = {
        "id": action["id"],
        "idMemberCreator": action["idMemberCreator"],
        "data": copy.deepcopy(action["data"]),
        "appCreator": None,
        "type": action["type"],
        "date": action["date"],
        "limits": action["limits"],
    }
    if with_display:
        body["display"] = _display(action, creator)
    if with_creator and creator is not None:
        body["memberCreator"] = select(member_creator_json(creator), creator_fields)
    return body
