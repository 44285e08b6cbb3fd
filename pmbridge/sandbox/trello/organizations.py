"""Organizations (workspaces): create, change, delete, with Trello's rules for their fields.

``name`` is the short name: lowercase letters, digits and ``_``, at least 3 characters,
unique. On create, invalid characters are stripped and a taken name is silently replaced;
without one, it is made from ``displayName``. On update it must already be valid and free.
``website`` must be http(s) or null; ``displayName`` must not start or end with a space.
"""

from __future__ import annotations

import re
from typing import Any

from pmbridge.sandbox.trello.answers import TrelloHTTPError, invalid_value
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

_NAME_CHARS = re.compile(r"[^a-z0-9_]")
_VALID_NAME = re.compile(r"^[a-z0-9_]{3,}$")
NAME_TAKEN = "Organization short name is already taken"
PERMISSION_LEVELS = ("private", "public")
ORGANIZATION_FILTERS = ("all", "members", "none", "public")
BOARD_FILTERS = ("all", "open", "closed", "members", "organization", "public")


def check_display_name(value: str) -> str:
    if not value or value != value.strip(" ") or len(value) > 16384:
        raise invalid_value("displayName")
    return value


def check_website(value: Any) -> str | None:
    """An http(s) URL, or None for ``null`` / empty (which clear it)."""
    if value is None:
        return None
    text = str(value).strip()
    if text in ("", "null"):
        return None
    if not re.match(r"^https?://[^\s/]+", text, re.IGNORECASE):
        raise invalid_value("website")
    return text


def _taken_names(world: World, except_id: str | None = None) -> set[str]:
    return {o["name"] for o in world.organizations.values() if o["id"] != except_id}


def _free_name(world: World, wanted: str | None, display_name: str) -> str:
    """The short name a create gets: ``wanted`` cleaned, or one made from the display name."""
    base = _NAME_CHARS.sub("", (wanted or "").lower())
    if len(base) < 3:
        base = _NAME_CHARS.sub("", display_name.lower())
    if len(base) < 3:
        base = f"{base}workspace"
    taken = _taken_names(world)
    name, suffix = base, 0
    while name in taken:
        suffix += 1
        name = f"{base}{suffix}"
    return name


def create_organization(
    world: World,
    actor: Member,
    *,
    display_name: str,
    name: str | None = None,
    desc: str = "",
    website: str | None = None,
) -> dict:
    check_display_name(display_name)
    website = check_website(website)
    with world.transaction():
        now = world.now()
        org_id = world.ids.new_id(now)
        org = {
            "id": org_id,
            "name": _free_name(world, name, display_name),
            "displayName": display_name,
            "desc": desc,
            "website": website,
            "idMemberCreator": actor.id,
            "permissionLevel": "private",
            "memberships": {actor.id: world.ids.new_id(now)},
            "dateLastActivity": None,
        }
        world.organizations[org_id] = org
        world.record(
            actor, "createOrganization", {"organization": world.organization_stub(org)}, now
        )
    return org


def update_organization(world: World, actor: Member, org: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes`` (name, displayName, desc, website, permissionLevel)."""
    if "displayName" in changes:
        check_display_name(changes["displayName"])
    if "website" in changes:
        changes["website"] = check_website(changes["website"])
    if "permissionLevel" in changes and changes["permissionLevel"] not in PERMISSION_LEVELS:
        raise invalid_value("prefs/permissionLevel")
    with world.transaction():
        if "name" in changes:
            if not _VALID_NAME.match(changes["name"]):
                raise invalid_value("name")
            if changes["name"] in _taken_names(world, except_id=org["id"]):
                raise TrelloHTTPError(400, NAME_TAKEN)
        old = {k: org[k] for k, v in changes.items() if org[k] != v}
        if not old:
            return org
        now = world.now()
        for key in old:
            org[key] = changes[key]
        org["dateLastActivity"] = world.timestamp(now)
        new_values = {_wire_key(k): changes[k] for k in old}
        if "prefs" in new_values:
            new_values["prefs"] = {"permissionLevel": changes["permissionLevel"]}
        world.record(
            actor,
            "updateOrganization",
            {
                "organization": {**world.organization_stub(org), **new_values},
                "old": {
                    _wire_key(k): ({"permissionLevel": v} if k == "permissionLevel" else v)
                    for k, v in old.items()
                },
            },
            now,
        )
    return org


def _wire_key(key: str) -> str:
    return "prefs" if key == "permissionLevel" else key


def delete_organization(world: World, actor: Member, org: dict) -> None:
    """Delete a workspace; its boards stay, without a workspace."""
    with world.transaction():
        for board in world.boards.values():
            if board["idOrganization"] == org["id"]:
                board["idOrganization"] = None
        world.organizations.pop(org["id"], None)


def organizations_of(world: World, member: Member, filter_: str) -> list[dict]:
    if filter_ == "none":
        return []
    with world.lock:
        found = [o for o in world.organizations.values() if member.id in o["memberships"]]
    if filter_ == "public":
        found = [o for o in found if o["permissionLevel"] == "public"]
    elif filter_ == "members":
        found = [o for o in found if o["permissionLevel"] == "private"]
    return found


def boards_of_organization(
    world: World, org: dict, filters: list[str], member: Member
) -> list[dict]:
    """The workspace's boards matching any of ``filters`` (see BOARD_FILTERS)."""
    with world.lock:
        boards = [b for b in world.boards.values() if b["idOrganization"] == org["id"]]
    if "all" in filters:
        return boards
    tests = {
        "open": lambda b: not b["closed"],
        "closed": lambda b: b["closed"],
        "members": lambda b: member.id in b["memberships"],
        "organization": lambda b: b["permissionLevel"] == "org",
        "public": lambda b: b["permissionLevel"] == "public",
    }
    return [b for b in boards if any(tests[f](b) for f in filters)]
