"""The input models of the reference Custompms: what a create or a patch may contain.

Pydantic in strict mode, unknown properties forbidden, so every bad value is refused with
the field it belongs to. Create models give defaults; patch models are derived from them
(every property optional, ``null`` still refused where the property is not nullable) and add
``deleted: false`` for restoring a deleted record. Values come out normalised: instants in
UTC with ``Z``, dates unchanged, sets (tags, assignees) sorted without duplicates, emails in
lower case. Checklist items and links come out as plain dicts; the store gives new ones ids.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

NAME_MAX = 512
DESCRIPTION_MAX = 16384
TEXT_MAX = 16384
STATUS_MAX = 64
URL_MAX = 2048
ID_MAX = 64
TAG_MAX = 64
EMAIL_MAX = 254
LIST_MAX = 200

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
_HTTP_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_when(value: str) -> str:
    """A date ``YYYY-MM-DD`` unchanged, or an RFC 3339 instant rewritten in UTC with ``Z``."""
    if _DATE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"{value!r} is not a real date ({err})") from None
        return value
    match = _INSTANT.match(value)
    if not match:
        raise ValueError(
            "must be an RFC 3339 date-time with a time zone (2024-05-01T09:30:00Z) "
            "or a date (2024-05-01)"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24):
            raise ValueError(f"time zone offset {sign}{off_h}:{off_m} is out of range")
        if sign == "-":
            offset = -offset
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=timezone(offset),
        ).astimezone(UTC)
    except (ValueError, OverflowError) as err:
        raise ValueError(f"{value!r} is not a real instant ({err})") from None
    return moment.replace(tzinfo=None).isoformat() + "Z"


def check_http_url(value: str) -> str:
    """An absolute http(s) URL without spaces or control characters."""
    if value == "":
        raise ValueError("must be an http(s) URL; use null for none")
    if not _HTTP_URL.match(value) or any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be an absolute http:// or https:// URL without spaces")
    try:
        host = urlsplit(value).hostname
    except ValueError as err:
        raise ValueError(f"is not a valid URL ({err})") from None
    if not host:
        raise ValueError("must name a host (https://example.com/...)")
    return value


def check_email(value: str) -> str:
    """An email address (``name@host.tld``), in lower case."""
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address (name@example.com)")
    return value.lower()


# White space by JavaScript's rules too (the contract's patterns may be read either way).
_SPACES = frozenset("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def check_tag(value: str) -> str:
    """A tag: no white space at either end, no control characters or line breaks."""
    if any(c.isspace() or c in _SPACES for c in (value[:1], value[-1:]) if c):
        raise ValueError(f"the tag {value!r} starts or ends with white space")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError(f"the tag {value!r} holds a control character or a line break")
    return value


def as_set(values: list[str]) -> list[str]:
    """A set on the wire: sorted, without duplicates."""
    return sorted(set(values))


def _text(min_length: int, max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(strict=True, min_length=min_length, max_length=max_length)
    ]


Name = _text(1, NAME_MAX)
Description = _text(0, DESCRIPTION_MAX)
Text = _text(1, TEXT_MAX)
Status = _text(1, STATUS_MAX)
Author = _text(1, NAME_MAX)
RecordId = _text(1, ID_MAX)
Secret = _text(1, 512)
HttpUrl = Annotated[
    str, StringConstraints(strict=True, max_length=URL_MAX), AfterValidator(check_http_url)
]
Email = Annotated[
    str, StringConstraints(strict=True, max_length=EMAIL_MAX), AfterValidator(check_email)
]
Tag = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=TAG_MAX), AfterValidator(check_tag)
]
Tags = Annotated[list[Tag], Field(max_length=LIST_MAX), AfterValidator(as_set)]
Assignees = Annotated[list[Email], Field(max_length=LIST_MAX), AfterValidator(as_set)]
When = Annotated[str, StringConstraints(strict=True, max_length=64), AfterValidator(normalize_when)]
Position = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _restore_only(value: bool) -> bool:
    if value is not False:
        raise ValueError("only false is allowed (it restores a deleted record); use DELETE")
    return value


Restore = Annotated[bool, Field(strict=True), AfterValidator(_restore_only)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ChecklistItem(_Input):
    """One checklist item; ``id`` names an item the task has (leave it out for a new one)."""

    id: RecordId | None = None
    text: Name
    done: bool = False


class Link(_Input):
    """One link; ``id`` names a link the task has (leave it out for a new one)."""

    id: RecordId | None = None
    title: Annotated[str, StringConstraints(strict=True, max_length=NAME_MAX)] = ""
    url: HttpUrl


Checklist = Annotated[list[ChecklistItem], Field(max_length=LIST_MAX)]
Links = Annotated[list[Link], Field(max_length=LIST_MAX)]


class CustomerCreate(_Input):
    name: Name
    description: Description = ""
    website: HttpUrl | None = None


class ProjectCreate(_Input):
    customer_id: RecordId | None = None
    name: Name
    description: Description = ""
    archived: bool = False


class TaskCreate(_Input):
    project_id: RecordId
    title: Name
    description: Description = ""
    status: Status = "todo"
    due_at: When | None = None
    start_at: When | None = None
    completed: bool = False
    archived: bool = False
    position: Position | None = None
    tags: Tags = Field(default_factory=list)
    assignees: Assignees = Field(default_factory=list)
    checklist: Checklist = Field(default_factory=list)
    links: Links = Field(default_factory=list)


class PersonCreate(_Input):
    email: Email
    name: Name


class CommentCreate(_Input):
    task_id: RecordId | None = None
    project_id: RecordId | None = None
    author: Author | None = None
    text: Text


class SubscriptionCreate(_Input):
    url: HttpUrl
    secret: Secret


def without(create: type[BaseModel], names: frozenset[str]) -> type[BaseModel]:
    """The create model ``create`` without the properties ``names``: a server that lacks
    them refuses them as unknown properties."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in create.model_fields.items()
        if name not in names
    }
    return create_model(create.__name__, __base__=_Input, **fields)


def patch_model(create: type[BaseModel]) -> type[BaseModel]:
    """The patch model of a create model: every property optional, plus ``deleted: false``.

    The default ``None`` is never validated, so leaving a property out is fine while sending
    ``null`` for a non-nullable one is still refused.
    """
    fields: dict[str, Any] = {}
    for name, info in create.model_fields.items():
        # Keep the constraints: pydantic moved them from the annotation into the metadata.
        annotation = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]  # type: ignore[assignment]
        fields[name] = (annotation, None)
    fields["deleted"] = (Restore, None)
    return create_model(
        create.__name__.removesuffix("Create") + "Patch",
        __base__=_Input,
        **fields,
    )


CustomerPatch = patch_model(CustomerCreate)
ProjectPatch = patch_model(ProjectCreate)
TaskPatch = patch_model(TaskCreate)
CommentPatch = patch_model(CommentCreate)
PersonPatch = patch_model(PersonCreate)
