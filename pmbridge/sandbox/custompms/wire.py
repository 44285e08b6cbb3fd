"""Reading requests and shaping answers, shared by the routes of the reference Custompms.

Bodies are parsed here (not by FastAPI) so that broken JSON, ``NaN`` and non-objects get a
400 problem and every field error a 422 problem naming the field, always before anything is
written. Also: the bearer-token check, ``If-Match`` and ``Idempotency-Key`` parsing, and
record answers with their ``ETag``.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse

from pmbridge.sandbox.custompms.notify import Notifier
from pmbridge.sandbox.custompms.problems import (
    BadRequest,
    FieldProblem,
    Invalid,
    Unauthorized,
    etag,
)
from pmbridge.sandbox.custompms.store import Record, Store

SERVER_SET = frozenset({"id", "version", "created_at", "updated_at"})
_VERSION_TAG = re.compile(r'^(?:W/)?(?:"([0-9]{1,18})"|([0-9]{1,18}))$')
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_notifier(request: Request) -> Notifier:
    return request.app.state.notifier


StoreDep = Annotated[Store, Depends(get_store)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]


def require_token(request: Request) -> None:
    """Refuse the request (401) unless it carries ``Authorization: Bearer <the token>``."""
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("Send the API token as 'Authorization: Bearer <token>'.")
    if not bearer_matches(header, request.app.state.token):
        raise Unauthorized("The bearer token is wrong.")


def bearer_matches(header: str, expected: str) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <expected>`` (in constant time)."""
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; ``BadRequest`` when it is not one."""
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; send a JSON object.")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise BadRequest(f"The request body is not valid JSON: {err}.") from None
    if not isinstance(data, dict):
        raise BadRequest(f"The request body must be a JSON object, not {type(data).__name__}.")
    return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def validate(
    model: type[BaseModel], data: dict[str, Any], *, what: str, partial: bool
) -> dict[str, Any]:
    """``data`` checked against ``model``; with ``partial``, only the properties given."""
    try:
        checked = model.model_validate(data)
    except ValidationError as err:
        raise Invalid(
            f"The {what} was not written: see errors.",
            errors=[_field_problem(error, what) for error in err.errors()],
        ) from None
    return checked.model_dump(exclude_unset=partial)


def _field_problem(error: Any, what: str) -> FieldProblem:
    loc = error.get("loc") or ()
    # links[0].url: the property, then where inside it
    field = (
        "".join(
            f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
            for i, part in enumerate(loc)
        )
        or "body"
    )
    kind = error["type"]
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden" and field in SERVER_SET:
        message = "is set by the server and cannot be written"
    elif kind == "extra_forbidden" and len(loc) > 1:
        message = f"is not a property of a {loc[0]} item"
    elif kind == "extra_forbidden":
        message = f"is not a property of a {what}"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    return FieldProblem(field, message)


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The version an ``If-Match`` header requires; ``None`` for no condition (or ``*``)."""
    if value is None or value.strip() == "*":
        return None
    match = _VERSION_TAG.match(value.strip())
    if not match:
        raise Invalid(
            "If-Match must carry a record version.",
            errors=[FieldProblem("If-Match", 'must be a version: "3" (as in ETag), 3 or *')],
        )
    return frozenset({int(match.group(1) or match.group(2))})


def check_idempotency_key(value: str | None) -> str | None:
    if value is not None and not _IDEMPOTENCY_KEY.match(value):
        raise Invalid(
            "The Idempotency-Key is not usable.",
            errors=[FieldProblem("Idempotency-Key", "must be 1-255 visible ASCII characters")],
        )
    return value


def record_response(
    record: Record, *, status: int = 200, location: str | None = None
) -> JSONResponse:
    headers = {"ETag": etag(record["version"])}
    if location:
        headers["Location"] = location
    return JSONResponse(record, status_code=status, headers=headers)
