"""The JSON Trello sends for each object, and its ``fields`` sets.

Pure functions from the sandbox's stored records to wire shapes (TRELLO_API.md §5); the
parts of cards and boards (labels, checklists…) are in ``render_parts``. The world passes in
what a shape derives from other objects (a card's comment count, an
organization's boards).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pmbridge.sandbox.trello.ids import format_timestamp, id_time, slugify
from pmbridge.sandbox.trello.positions import wire_pos
from pmbridge.sandbox.trello.render_parts import label_json


@dataclass(frozen=True)
class Member:
    """A sandbox user; ``token`` acts as them."""

    id: str
    username: str
    full_name: str
    token: str

    @property
    def initials(self) -> str:
        parts = [p for p in self.full_name.split() if p]
        return "".join(p[0] for p in parts[:3]).upper() or self.username[:1].upper()

    @property
    def avatar_hash(self) -> str:
        return hashlib.md5(self.username.encode(), usedforsecurity=False).hexdigest()


CARD_FIELDS = (
    "id", "address", "badges", "cardRole", "checkItemStates", "closed", "coordinates",
    "cover", "creationMethod", "dateLastActivity", "desc", "descData", "due", "dueComplete",
    "dueReminder", "idAttachmentCover", "idBoard", "idChecklists", "idLabels", "idList",
    "idMembers", "idMembersVoted", "idShort", "isTemplate", "labels", "limits",
    "locationName", "manualCoverAttachment", "mirrorSourceId", "name", "pos", "shortLink",
    "shortUrl", "start", "subscribed", "url",
)  # fmt: skip
# The spec's defaults for GET /cards/{id}, plus what real answers carry besides (§5).
CARD_DEFAULT = (
    "id", "badges", "checkItemStates", "closed", "dateLastActivity", "desc", "descData",
    "due", "dueComplete", "dueReminder", "start", "idBoard", "idChecklists", "idLabels",
    "idList", "idMembers", "idMembersVoted", "idShort", "idAttachmentCover",
    "manualCoverAttachment", "labels", "name", "pos", "shortLink", "shortUrl", "url",
    "subscribed", "cover", "isTemplate", "cardRole", "mirrorSourceId",
)  # fmt: skip

BOARD_FIELDS = (
    "id", "name", "desc", "descData", "closed", "dateClosed", "idOrganization",
    "idEnterprise", "idMemberCreator", "pinned", "starred", "url", "shortUrl", "shortLink",
    "prefs", "labelNames", "limits", "memberships", "subscribed", "powerUps",
    "dateLastActivity", "dateLastView", "idTags", "datePluginDisable", "creationMethod",
    "ixUpdate", "templateGallery", "enterpriseOwned", "premiumFeatures", "idBoardSource",
)  # fmt: skip
BOARD_DEFAULT = (
    "id", "name", "desc", "descData", "closed", "idOrganization", "pinned", "url",
    "shortUrl", "prefs", "labelNames",
)  # fmt: skip
# What POST and PUT /boards answer: the defaults plus the ids a client keeps.
BOARD_WRITE = (*BOARD_DEFAULT, "shortLink", "idEnterprise", "idMemberCreator", "limits")

LIST_FIELDS = (
    "id", "name", "closed", "color", "idBoard", "pos", "subscribed", "softLimit",
    "idOrganization", "creationMethod", "limits",
)  # fmt: skip
LIST_DEFAULT = ("id", "name", "closed", "idBoard", "pos")
LIST_STANDARD = ("id", "name", "closed", "color", "idBoard", "pos", "subscribed", "softLimit")

ORGANIZATION_FIELDS = (
    "id", "name", "displayName", "desc", "descData", "website", "url", "idBoards",
    "idMemberCreator", "idEnterprise", "logoHash", "logoUrl", "prefs", "memberships",
    "dateLastActivity", "premiumFeatures", "products", "powerUps", "billableMemberCount",
    "activeBillableMemberCount", "limits", "offering", "creationMethod", "teamType",
)  # fmt: skip

MEMBER_FIELDS = (
    "id", "activityBlocked", "avatarHash", "avatarUrl", "bio", "bioData", "confirmed",
    "fullName", "idEnterprise", "idMemberReferrer", "initials", "memberType", "nonPublic",
    "nonPublicAvailable", "products", "url", "username", "status", "idBoards",
    "idOrganizations", "premiumFeatures", "prefs", "trophies", "loginTypes",
)  # fmt: skip
MEMBER_CREATOR_FIELDS = (
    "id", "activityBlocked", "avatarHash", "avatarUrl", "fullName", "idMemberReferrer",
    "initials", "nonPublic", "nonPublicAvailable", "username",
)  # fmt: skip

ACTION_FIELDS = ("id", "idMemberCreator", "data", "appCreator", "type", "date", "limits", "display")

LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue")
LABEL_NAME_KEYS = (
    "green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black",
)  # fmt: skip

_LIMIT_OK = {"status": "ok", "disableAt": 1000, "warnAt": 800}


def select(obj: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: obj[name] for name in fields if name in obj}


def member_json(member: Member, *, id_boards: Sequence[str], id_orgs: Sequence[str]) -> dict:
    """Every member field the sandbox knows (GET /members/{id} with fields=all)."""
    return {
        "id": member.id,
        "activityBlocked": False,
        "avatarHash": member.avatar_hash,
        "avatarUrl": f"https://trello-members.s3.amazonaws.com/{member.id}/{member.avatar_hash}",
        "bio": "",
        "bioData": {"emoji": {}},
        "confirmed": True,
        "fullName": member.full_name,
        "idEnterprise": None,
        "idMemberReferrer": None,
        "initials": member.initials,
        "memberType": "normal",
        "nonPublic": {},
        "nonPublicAvailable": True,
        "products": [],
        "url": f"https://trello.com/{member.username}",
        "username": member.username,
        "status": "disconnected",
        "idBoards": list(id_boards),
        "idOrganizations": list(id_orgs),
        "premiumFeatures": [],
        "prefs": {"colorBlind": False, "locale": "en-US", "timezone": "Etc/UTC"},
        "trophies": [],
        "loginTypes": ["password"],
    }


def token_json(token_id: str, id_member: str) -> dict:
    """A token as ``GET /tokens/{token}`` answers it: read and write on everything."""
    permissions = [
        {"idModel": "*", "modelType": kind, "read": True, "write": True}
        for kind in ("board", "organization")
    ]
    return {
        "id": token_id,
        "identifier": "pmbridge sandbox",
        "idMember": id_member,
        "dateCreated": format_timestamp(id_time(token_id)),
        "dateExpires": None,
        "permissions": permissions,
    }


def member_creator_json(member: Member) -> dict:
    return select(member_json(member, id_boards=(), id_orgs=()), MEMBER_CREATOR_FIELDS)


def organization_json(org: dict, *, id_boards: Sequence[str]) -> dict:
    return {
        "id": org["id"],
        "name": org["name"],
        "displayName": org["displayName"],
        "desc": org["desc"],
        "descData": {"emoji": {}} if org["desc"] else None,
        "website": org["website"],
        "url": f"https://trello.com/w/{org['name']}",
        "idBoards": list(id_boards),
        "idMemberCreator": org["idMemberCreator"],
        "idEnterprise": None,
        "logoHash": None,
        "logoUrl": None,
        "prefs": {
            "permissionLevel": org["permissionLevel"],
            "orgInviteRestrict": [],
            "boardInviteRestrict": "any",
            "externalMembersDisabled": False,
            "associatedDomain": None,
            "googleAppsVersion": 1,
            "boardVisibilityRestrict": {"private": "org", "org": "org", "public": "org"},
            "boardDeleteRestrict": {"private": "org", "org": "org", "public": "org"},
        },
        "memberships": [
            {
                "id": membership_id,
                "idMember": id_member,
                "memberType": "admin",
                "unconfirmed": False,
                "deactivated": False,
            }
            for id_member, membership_id in org["memberships"].items()
        ],
        "dateLastActivity": org["dateLastActivity"],
        "premiumFeatures": [],
        "products": [],
        "powerUps": [],
        "billableMemberCount": len(org["memberships"]),
        "activeBillableMemberCount": len(org["memberships"]),
        "limits": {"orgs": {"totalMembersPerOrg": _LIMIT_OK}},
        "offering": "trello.free",
        "creationMethod": None,
        "teamType": None,
    }


def board_url(board: dict) -> str:
    return f"https://trello.com/b/{board['shortLink']}/{slugify(board['name'])}"


def board_json(board: dict) -> dict:
    return {
        "id": board["id"],
        "name": board["name"],
        "desc": board["desc"],
        "descData": {"emoji": {}} if board["desc"] else None,
        "closed": board["closed"],
        "dateClosed": board["dateClosed"],
        "idOrganization": board["idOrganization"],
        "idEnterprise": None,
        "idMemberCreator": board["idMemberCreator"],
        "pinned": False,
        "starred": False,
        "url": board_url(board),
        "shortUrl": f"https://trello.com/b/{board['shortLink']}",
        "shortLink": board["shortLink"],
        "prefs": _board_prefs(board["permissionLevel"]),
        "labelNames": {
            key: board["labelNames"].get(key, "")
            for key in (*LABEL_NAME_KEYS, *[f"{c}_dark" for c in LABEL_NAME_KEYS])
        },
        "limits": {"lists": {"openPerBoard": _LIMIT_OK}, "cards": {"openPerBoard": _LIMIT_OK}},
        "memberships": [
            {
                "id": membership_id,
                "idMember": id_member,
                "memberType": board.get("memberTypes", {}).get(id_member, "admin"),
                "unconfirmed": False,
                "deactivated": False,
            }
            for id_member, membership_id in board["memberships"].items()
        ],
        "subscribed": False,
        "powerUps": [],
        "dateLastActivity": board["dateLastActivity"],
        "dateLastView": board["dateLastActivity"],
        "idTags": [],
        "datePluginDisable": None,
        "creationMethod": None,
        "ixUpdate": str(board["ixUpdate"]),
        "templateGallery": None,
        "enterpriseOwned": False,
        "premiumFeatures": [],
        "idBoardSource": None,
    }


def _board_prefs(permission_level: str) -> dict:
    return {
        "permissionLevel": permission_level,
        "hideVotes": False,
        "voting": "disabled",
        "comments": "members",
        "invitations": "members",
        "selfJoin": True,
        "cardCovers": True,
        "isTemplate": False,
        "cardAging": "regular",
        "calendarFeedEnabled": False,
        "background": "blue",
        "backgroundColor": "#0079BF",
        "backgroundImage": None,
        "backgroundImageScaled": None,
        "backgroundTile": False,
        "backgroundBrightness": "dark",
        "backgroundBottomColor": "#0079BF",
        "backgroundTopColor": "#0079BF",
        "canBePublic": True,
        "canBeEnterprise": True,
        "canBeOrg": True,
        "canBePrivate": True,
        "canInvite": True,
    }


def list_json(lst: dict, *, id_organization: str | None) -> dict:
    return {
        "id": lst["id"],
        "name": lst["name"],
        "closed": lst["closed"],
        "color": None,
        "idBoard": lst["idBoard"],
        "pos": wire_pos(lst["pos"]),
        "subscribed": False,
        "softLimit": None,
        "idOrganization": id_organization,
        "creationMethod": None,
        "limits": {"cards": {"openPerList": _LIMIT_OK, "totalPerList": _LIMIT_OK}},
    }


def card_url(card: dict) -> str:
    return f"https://trello.com/c/{card['shortLink']}/{card['idShort']}-{slugify(card['name'])}"


@dataclass(frozen=True)
class CardParts:
    """What a card's JSON takes from other tables: its labels, checklists, attachments."""

    comments: int = 0
    labels: Sequence[dict] = ()
    checklists: Sequence[dict] = ()
    attachments: int = 0


def card_json(card: dict, parts: CardParts) -> dict:
    items = [item for checklist in parts.checklists for item in checklist["checkItems"]]
    checked = [item for item in items if item["state"] == "complete"]
    return {
        "id": card["id"],
        "address": None,
        "badges": {
            "attachmentsByType": {"trello": {"board": 0, "card": 0}},
            "externalSource": None,
            "location": False,
            "votes": 0,
            "viewingMemberVoted": False,
            "subscribed": False,
            "fogbugz": "",
            "checkItems": len(items),
            "checkItemsChecked": len(checked),
            "checkItemsEarliestDue": None,
            "comments": parts.comments,
            "attachments": parts.attachments,
            "description": bool(card["desc"]),
            "due": card["due"],
            "dueComplete": card["dueComplete"],
            "lastUpdatedByAi": False,
            "start": card["start"],
        },
        "cardRole": None,
        "checkItemStates": [{"idCheckItem": i["id"], "state": "complete"} for i in checked],
        "closed": card["closed"],
        "coordinates": None,
        "cover": {
            "idAttachment": None,
            "color": None,
            "idUploadedBackground": None,
            "size": "normal",
            "brightness": "dark",
            "idPlugin": None,
        },
        "creationMethod": None,
        "dateLastActivity": card["dateLastActivity"],
        "desc": card["desc"],
        "descData": {"emoji": {}},
        "due": card["due"],
        "dueComplete": card["dueComplete"],
        "dueReminder": None,
        "idAttachmentCover": None,
        "idBoard": card["idBoard"],
        "idChecklists": [checklist["id"] for checklist in parts.checklists],
        "idLabels": [label["id"] for label in parts.labels],
        "idList": card["idList"],
        "idMembers": list(card["idMembers"]),
        "idMembersVoted": [],
        "idShort": card["idShort"],
        "isTemplate": False,
        "labels": [label_json(label) for label in parts.labels],
        "limits": {"attachments": {"perCard": _LIMIT_OK}, "checklists": {"perCard": _LIMIT_OK}},
        "locationName": None,
        "manualCoverAttachment": False,
        "mirrorSourceId": None,
        "name": card["name"],
        "pos": wire_pos(card["pos"]),
        "shortLink": card["shortLink"],
        "shortUrl": f"https://trello.com/c/{card['shortLink']}",
        "start": card["start"],
        "subscribed": False,
        "url": card_url(card),
    }
