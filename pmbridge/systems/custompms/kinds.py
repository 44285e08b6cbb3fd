"""What Custompms offers to map: its kinds and their properties, with value types.

The flow loader checks a flow file against this (through ``pmbridge.systems.kinds``), so a
misspelt property is caught when the file is loaded. It lists what this connector puts into
and accepts from records.
"""

from __future__ import annotations

from pmbridge.systems.kinds import Kinds

# kind -> property -> (value type, writable)
KINDS: Kinds = {
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
        "tags": ("tags", True),
        "assignees": ("people", True),
        "checklist": ("checklist", True),
        "links": ("links", True),
    },
    "comment": {
        "task_id": ("id", True),
        "project_id": ("id", True),
        "author": ("string", True),
        "text": ("text", True),
    },
}
