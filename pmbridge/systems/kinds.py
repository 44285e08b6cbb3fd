"""The kinds every connected system offers to map, as each connector declares them.

Each connector package has a ``kinds`` module with ``KINDS``: kind → property →
(value type, writable). The flow loader checks a flow file against ``catalog()``.
"""

from __future__ import annotations

import importlib
from typing import Literal

# tags: a set of names; people: a set of people; links: a set of {url, title};
# checklist: ordered {id, text, done} items.
ValueType = Literal[
    "string",
    "text",
    "url",
    "boolean",
    "number",
    "instant",
    "id",
    "tags",
    "people",
    "links",
    "checklist",
]
Kinds = dict[str, dict[str, tuple[ValueType, bool]]]

# Side → the module declaring that connector's kinds.
CONNECTORS = {
    "custompms": "pmbridge.systems.custompms.kinds",
    "trello": "pmbridge.systems.trello.kinds",
}


def catalog() -> dict[str, Kinds]:
    """Every connector's kinds, by side."""
    return {side: importlib.import_module(module).KINDS for side, module in CONNECTORS.items()}
