"""What Trello offers to map: its kinds and their properties, with value types.

The flow loader checks a flow file against this (through ``pmbridge.systems.kinds``), so a
misspelt property is caught when the file is loaded. It lists what this connector puts into
and accepts from records.
"""

from __future__ import annotations

from pmbridge.systems.kinds import Kinds

# kind -> property -> (value type, writable)
KINDS: Kinds = {
    "organization": {
        "displayName": ("string", True),
        "desc": ("text", True),
        "website": ("url", True),
        "name": ("string", True),
    },
    "board": {
        "name": ("string", True),
        "desc": ("text", True),
        "closed": ("boolean", True),
        "idOrganization": ("id", True),
    },
    "card": {
        "idBoard": ("id", True),
        "list": ("string", True),
        "name": ("string", True),
        "desc": ("text", True),
        "due": ("instant", True),
        "start": ("instant", True),
        "dueComplete": ("boolean", True),
        "closed": ("boolean", True),
        "pos": ("number", True),
        "labels": ("tags", True),
        "members": ("people", True),
        "checklist": ("checklist", True),
        "attachments": ("links", True),
    },
    "comment": {
        "idCard": ("id", True),
        "text": ("text", True),
        "author": ("string", False),
    },
}
