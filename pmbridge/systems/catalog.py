"""What each system offers to map: its kinds and their properties, with value types.

The flow loader checks a flow file against this catalogue, so a misspelt property is caught
when the file is loaded, not in the middle of a sync. It lists what the connectors put into
and accept from records (see ``pmbridge.systems.custompms`` and ``pmbridge.systems.trello``).
"""

from __future__ import annotations

from typing import Literal

ValueType = Literal["string", "text", "url", "boolean", "number", "instant", "id"]

# kind -> property -> (value type, writable)
CATALOG: dict[str, dict[str, dict[str, tuple[ValueType, bool]]]] = {
    "custompms": {
        "customer": {
            "name": ("string", True),
            "description": ("text", True),
            "website": ("url", True),
        },
        "project": {
            "customer_id": ("id", True),
            "name": ("string", True),
            "description": ("text", True),
            "archived": ("boolean", True),
        },
        "task": {
            "project_id": ("id", True),
            "title": ("string", True),
            "description": ("text", True),
            "status": ("string", True),
            "due_at": ("instant", True),
            "start_at": ("instant", True),
            "completed": ("boolean", True),
            "archived": ("boolean", True),
            "position": ("number", True),
        },
        "comment": {
            "task_id": ("id", True),
            "project_id": ("id", True),
            "author": ("string", True),
            "text": ("text", True),
        },
    },
    "trello": {
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
        },
        "comment": {
            "idCard": ("id", True),
            "text": ("text", True),
            "author": ("string", False),
        },
    },
}
