"""Request parameters as Trello reads them, and their validation.

Trello takes parameters from the query string, a form body or a JSON body (older clients
use all three); ``collect_params`` merges them, the body winning. The ``Params`` readers
check each value the way Trello does and raise ``invalid value for <param>`` otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from pmbridge.sandbox.trello.answers import TrelloHTTPError, invalid_value
from pmbridge.sandbox.trello.ids import is_object_id, parse_date

MAX_TEXT = 16384

# A value that means "clear this date / website".
_NULLS = frozenset({"null", ""})
_MISSING = object()


class Params:
    """The merged parameters of one request, with Trello's readers."""

    def __init__(self, values: dict[str, Any]):
        self.values = values

    def has(self, name: str) -> bool:
        return name in self.values

    def raw(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def text(
        self, name: str, *, min_len: int = 0, max_len: int = MAX_TEXT, required: bool = False
    ) -> str | None:
        """A string of ``min_len``..``max_len`` characters, or None when absent."""
        value = self.values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise invalid_value(name)
            return None
        if isinstance(value, bool) or isinstance(value, dict | list):
            raise invalid_value(name)
        text = str(value)
        if not min_len <= len(text) <= max_len:
            raise invalid_value(name)
        return text

    def boolean(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid_value(name)

    def flag(self, name: str, default: bool) -> bool:
        found = self.boolean(name)
        return default if found is None else found

    def date(self, name: str) -> tuple[bool, datetime | None]:
        """(given, value): a date, or None when the client clears it with ``null``."""
        if name not in self.values:
            return False, None
        value = self.values[name]
        if value is None or (isinstance(value, str) and value.strip().lower() in _NULLS):
            return True, None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(int(value))
        if not isinstance(value, str):
            raise invalid_value(name)
        moment = parse_date(value)
        if moment is None:
            raise invalid_value(name)
        return True, moment

    def pos(self, name: str = "pos") -> str | float | None:
        """``top``, ``bottom`` or a non-negative finite number, or None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() in ("top", "bottom"):
            return value.strip().lower()
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise invalid_value(name) from None
        if isinstance(value, bool) or not math.isfinite(number) or number < 0:
            raise invalid_value(name)
        return number

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self.values.get(name)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            raise invalid_value(name) from None
        if not low <= number <= high:
            raise invalid_value(name)
        return number

    def object_id(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise invalid_value(name)
            return None
        if not isinstance(value, str) or not is_object_id(value):
            raise invalid_value(name)
        return value.lower()

    def choice(self, name: str, allowed: Iterable[str], default: str) -> str:
        value = self.values.get(name)
        if value is None:
            return default
        text = str(value)
        if text not in set(allowed):
            raise invalid_value(name)
        return text

    def id_list(self, name: str) -> list[str] | None:
        value = self.values.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        ids = [str(item).strip().lower() for item in items if str(item).strip()]
        if not all(is_object_id(item) for item in ids):
            raise invalid_value(name)
        return ids

    def fields(self, name: str, *, all_fields: Sequence[str], default: Sequence[str]) -> list[str]:
        """The ``fields`` selection: ``all``, a comma list, or the default; ``id`` first."""
        value = self.values.get(name)
        if value is None:
            chosen = list(default)
        else:
            items = value if isinstance(value, list) else str(value).split(",")
            names = [str(item).strip() for item in items if str(item).strip()]
            if "all" in names:
                chosen = list(all_fields)
            else:
                unknown = [n for n in names if n not in all_fields]
                if unknown:
                    raise invalid_value(name)
                chosen = names
        return ["id", *[n for n in dict.fromkeys(chosen) if n != "id"]]


async def read_body(request: Request) -> dict[str, Any]:
    """The body's parameters (JSON object or form), cached on the request."""
    cached = getattr(request.state, "trello_body", None)
    if cached is not None:
        return cached
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    values: dict[str, Any] = {}
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                decoded = json.loads(raw)
            except ValueError:
                raise TrelloHTTPError(400, "invalid JSON in the request body") from None
            if not isinstance(decoded, dict):
                raise TrelloHTTPError(400, "the JSON body must be an object")
            values = _flatten(decoded)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
    request.state.trello_body = values
    return values


def _flatten(decoded: dict[str, Any]) -> dict[str, Any]:
    # {"prefs": {"permissionLevel": "org"}} is the JSON spelling of prefs/permissionLevel.
    flat: dict[str, Any] = {}
    for key, value in decoded.items():
        if isinstance(value, dict) and key == "prefs":
            for sub, subvalue in value.items():
                flat[f"{key}/{sub}"] = subvalue
        else:
            flat[key] = value
    return flat


async def collect_params(request: Request) -> Params:
    """Query string, then form or JSON body on top."""
    values: dict[str, Any] = dict(request.query_params.items())
    values.update(await read_body(request))
    return Params(values)


ParamsDep = Annotated[Params, Depends(collect_params)]
