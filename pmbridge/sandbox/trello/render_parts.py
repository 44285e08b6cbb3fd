"""The JSON Trello sends for the parts of cards and boards: labels, checklists and check
items, attachments, custom fields and their items (TRELLO_API.md §5, the OpenAPI schemas)."""

from __future__ import annotations

from pmbridge.sandbox.trello.positions import wire_pos

LABEL_FIELDS = ("id", "idBoard", "name", "color", "uses")
CHECKLIST_FIELDS = ("id", "name", "idBoard", "idCard", "pos", "checkItems")
CHECK_ITEM_FIELDS = (
    "id", "name", "nameData", "pos", "state", "idChecklist", "due", "dueReminder", "idMember",
)  # fmt: skip
ATTACHMENT_FIELDS = (
    "id", "bytes", "date", "edgeColor", "idMember", "isUpload", "mimeType", "name",
    "previews", "url", "pos", "fileName",
)  # fmt: skip


def label_json(label: dict, *, uses: int | None = None) -> dict:
    body = {
        "id": label["id"],
        "idBoard": label["idBoard"],
        "name": label["name"],
        "color": label["color"],
    }
    if uses is not None:
        body["uses"] = uses
    return body


def check_item_json(item: dict) -> dict:
    return {
        "id": item["id"],
        "name": item["name"],
        "nameData": None,
        "pos": wire_pos(item["pos"]),
        "state": item["state"],
        "idChecklist": item["idChecklist"],
        "due": item["due"],
        "dueReminder": None,
        "idMember": item["idMember"],
    }


def checklist_json(checklist: dict) -> dict:
    return {
        "id": checklist["id"],
        "name": checklist["name"],
        "idBoard": checklist["idBoard"],
        "idCard": checklist["idCard"],
        "pos": wire_pos(checklist["pos"]),
        "checkItems": [check_item_json(item) for item in checklist["checkItems"]],
    }


def attachment_json(attachment: dict) -> dict:
    return {
        "id": attachment["id"],
        "bytes": None,
        "date": attachment["date"],
        "edgeColor": None,
        "idMember": attachment["idMember"],
        "isUpload": False,
        "mimeType": attachment["mimeType"],
        "name": attachment["name"],
        "previews": [],
        "url": attachment["url"],
        "pos": wire_pos(attachment["pos"]),
        "fileName": None,
    }
