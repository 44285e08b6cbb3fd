"""Writing a card's parts: the difference between what a card has and what it should have,
applied with Trello's own calls (labels, members, one checklist, URL attachments).

The HTTP calls are ``CardParts``' own methods (kept apart from ``client.py``); each goes
through ``TrelloClient.request`` and so through its limiter and retries. A label or a
checklist is looked for by name before it is made, in what Trello answers now (board labels
are read once a cycle and kept up to date with what this writer makes), so a label or
checklist whose create answer was lost is found, not made twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pmbridge.errors import InvalidValueError
from pmbridge.systems.trello.client import TrelloClient, segment
from pmbridge.systems.trello.parts import (
    DEFAULT_CHECKLIST,
    PART_FIELDS,
    PART_PARAMS,
    attachment_title,
    card_parts,
    checklist_items,
    named,
)

POS_STEP = 16384.0


class CardParts:
    """Reads and writes the parts of cards through one client; caches board labels and
    board members for one cycle (``clear``)."""

    def __init__(self, client: TrelloClient, checklist_name: str = DEFAULT_CHECKLIST):
        self.client = client
        self.checklist_name = checklist_name
        self._labels: dict[str, list[dict[str, Any]]] = {}
        self._members: dict[str, dict[str, str]] = {}

    def clear(self) -> None:
        self._labels.clear()
        self._members.clear()

    # -- reads -----------------------------------------------------------------------------

    async def board_cards(self, board: str, fields: str) -> list[dict[str, Any]]:
        """Every card of a board (archived ones too) with its parts, in one call."""
        return await self.client.get_board_cards(board, fields=fields, **PART_PARAMS)

    async def card(self, id: str, fields: str) -> dict[str, Any]:
        """One card with its parts."""
        return await self.client.get_card(id, fields=fields, **PART_PARAMS)

    async def board_labels(self, board: str) -> list[dict[str, Any]]:
        if board not in self._labels:
            self._labels[board] = await self.client.request(
                "GET",
                f"/boards/{segment(board)}/labels",
                {"fields": "id,name,color", "limit": 1000},
            )
        return self._labels[board]

    async def board_members(self, board: str) -> dict[str, str]:
        """username (lower case) → member id, of the board's members."""
        if board not in self._members:
            found = await self.client.request(
                "GET", f"/boards/{segment(board)}/members", {"fields": "username"}
            )
            self._members[board] = {str(m.get("username", "")).lower(): m["id"] for m in found}
        return self._members[board]

    # -- writes ----------------------------------------------------------------------------

    async def write(self, id: str, wanted: Mapping[str, Any], fields: str) -> dict[str, Any]:
        """Make card ``id``'s parts what ``wanted`` says; the card as it is then (one read
        before, one after). Members not on the board are left out and named in an
        ``InvalidValueError`` raised after everything else was written."""
        card = await self.card(id, "idBoard,labels")
        board = str(card["idBoard"])
        have = card_parts(card, self.checklist_name)
        missing: list[str] = []
        if "labels" in wanted:
            await self._write_labels(id, board, card.get("labels") or [], wanted["labels"])
        if "members" in wanted:
            missing = await self._write_members(
                id, board, have.get("members", ()), wanted["members"]
            )
        if "checklist" in wanted:
            await self._write_checklist(id, card.get("checklists") or [], wanted["checklist"])
        if "attachments" in wanted:
            await self._write_attachments(id, card.get("attachments") or [], wanted["attachments"])
        after = await self.card(id, fields)
        if missing:
            raise InvalidValueError(
                f"Trello member {', '.join('@' + m for m in missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not a member of board {board}, so "
                f"card {id} cannot have them; add them to the board in Trello (or correct the "
                "people map); the card's other properties were written",
                system="trello",
                field="members",
            )
        return after

    async def _write_labels(
        self, card: str, board: str, current: list[Mapping[str, Any]], wanted: Sequence[Any]
    ) -> None:
        want = {_label_name(w): _label_color(w) for w in wanted}
        want.pop("", None)
        have = {str(label.get("name") or ""): label["id"] for label in current}
        for name, label_id in have.items():
            if name and name not in want:
                await self.client.request(
                    "DELETE", f"/cards/{segment(card)}/idLabels/{segment(label_id)}"
                )
        for name, color in want.items():
            if name in have:
                continue
            label_id = await self._label_id(board, name, color)
            await self.client.request(
                "POST", f"/cards/{segment(card)}/idLabels", {"value": label_id}
            )

    async def _label_id(self, board: str, name: str, color: str | None) -> str:
        """The board's label called ``name``, made (in ``color``) when it has none."""
        labels = await self.board_labels(board)
        for label in labels:
            if label.get("name") == name:
                return str(label["id"])
        made = await self.client.request(
            "POST", f"/boards/{segment(board)}/labels", {"name": name, "color": color}
        )
        labels.append(made)
        return str(made["id"])

    async def _write_members(
        self, card: str, board: str, current: Sequence[str], wanted: Sequence[str]
    ) -> list[str]:
        want = {str(w).lstrip("@").lower() for w in wanted} - {""}
        on_board = await self.board_members(board)
        for username in current:
            if username not in want and username in on_board:
                member = on_board[username]
                await self.client.request(
                    "DELETE", f"/cards/{segment(card)}/idMembers/{segment(member)}"
                )
        missing = sorted(u for u in want if u not in on_board)
        for username in sorted(want - set(current) - set(missing)):
            await self.client.request(
                "POST", f"/cards/{segment(card)}/idMembers", {"value": on_board[username]}
            )
        return missing

    async def _write_checklist(
        self, card: str, checklists: list[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
    ) -> None:
        checklist = named(checklists, self.checklist_name)
        if checklist is None:
            if not wanted:
                return
            checklist = await self.client.request(
                "POST", f"/cards/{segment(card)}/checklists", {"name": self.checklist_name}
            )
        list_id = str(checklist["id"])
        current = {item["id"]: item for item in checklist_items(checklist)}
        keep = {str(w["id"]) for w in wanted if w.get("id") in current}
        for item_id in current:
            if item_id not in keep:
                await self.client.request(
                    "DELETE", f"/checklists/{segment(list_id)}/checkItems/{segment(item_id)}"
                )
        order: list[str] = []
        for want in wanted:
            text, done = str(want.get("text") or ""), bool(want.get("done"))
            item = current.get(want.get("id"))
            if item is None:
                made = await self.client.request(
                    "POST",
                    f"/checklists/{segment(list_id)}/checkItems",
                    {"name": text, "checked": done, "pos": "bottom"},
                )
                order.append(str(made["id"]))
                continue
            order.append(item["id"])
            changes: dict[str, Any] = {}
            if item["text"] != text:
                changes["name"] = text
            if item["done"] != done:
                changes["state"] = "complete" if done else "incomplete"
            if changes:
                await self._put_item(card, item["id"], changes)
        # Now the kept items stand in their old order and the new ones after them.
        standing = [i for i in current if i in keep] + [i for i in order if i not in keep]
        if order != standing:
            for n, item_id in enumerate(order, start=1):
                await self._put_item(card, item_id, {"pos": n * POS_STEP})

    async def _put_item(self, card: str, item: str, changes: Mapping[str, Any]) -> None:
        await self.client.request(
            "PUT", f"/cards/{segment(card)}/checkItem/{segment(item)}", dict(changes)
        )

    async def _write_attachments(
        self, card: str, current: list[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
    ) -> None:
        want = {str(w["url"]): str(w.get("title") or "") for w in wanted if w.get("url")}
        have: dict[str, Mapping[str, Any]] = {}
        for attachment in current:
            if attachment.get("isUpload") or not attachment.get("url"):
                continue  # uploads are not links: left alone
            url = str(attachment["url"])
            if url in have or want.get(url) != attachment_title(attachment):
                # a duplicate, or a title to change: Trello cannot rename an attachment
                await self.client.request(
                    "DELETE", f"/cards/{segment(card)}/attachments/{segment(attachment['id'])}"
                )
                continue
            have[url] = attachment
        for url, title in want.items():
            if url not in have:
                params = {"url": url, "name": title} if title else {"url": url}
                await self.client.request("POST", f"/cards/{segment(card)}/attachments", params)


def wanted_parts(values: dict[str, Any]) -> dict[str, Any]:
    """The part fields taken out of a write's values (what is left is the card's own)."""
    return {name: values.pop(name) for name in PART_FIELDS if name in values}


def _label_name(value: Any) -> str:
    return str((value.get("name") if isinstance(value, Mapping) else value) or "").strip()


def _label_color(value: Any) -> str | None:
    return value.get("color") if isinstance(value, Mapping) else None
