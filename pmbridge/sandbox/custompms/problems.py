"""RFC 9457 problem documents: the errors the reference Custompms answers with.

Every refusal is an ``ApiProblem`` raised anywhere in the server (routes, validation, the
store) and turned into an ``application/problem+json`` answer by ``problem_response``.
``type`` is ``urn:custompms:problem:<kind>``; ``errors`` names each field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:custompms:problem:"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field at fault: a body property, a query parameter or a header."""

    field: str
    message: str


class ApiProblem(Exception):
    """A refusal with its HTTP status.

    :param detail: a complete sentence for a person
    :param errors: the fields at fault
    :param headers: extra response headers
    :param extra: extra members of the problem document (``id``, ``current_version``)
    """

    status = 500
    kind = "server-error"
    title = "Server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Iterable[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(ApiProblem):
    """The body is not a JSON object."""

    status = 400
    kind = "bad-request"
    title = "Bad request"


class Unauthorized(ApiProblem):
    """No bearer token, or a wrong one."""

    status = 401
    kind = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="custompms"'})


class NotFound(ApiProblem):
    """Nothing with this id ever existed (or no such route)."""

    status = 404
    kind = "not-found"
    title = "Not found"


class MethodNotAllowed(ApiProblem):
    status = 405
    kind = "method-not-allowed"
    title = "Method not allowed"


class Gone(ApiProblem):
    """The record was soft-deleted; carries its id and the tombstone's version."""

    status = 410
    kind = "gone"
    title = "Gone"

    def __init__(self, detail: str, *, id: str, current_version: int):
        super().__init__(detail, extra={"id": id, "current_version": current_version})


class StaleVersion(ApiProblem):
    """``If-Match`` named an older version than the record's current one."""

    status = 412
    kind = "stale-version"
    title = "Precondition failed"

    def __init__(self, detail: str, *, current_version: int):
        super().__init__(
            detail,
            headers={"ETag": etag(current_version)},
            extra={"current_version": current_version},
        )


class Invalid(ApiProblem):
    """A value is missing, of the wrong type, too long, unknown, or names no live parent."""

    status = 422
    kind = "invalid"
    title = "Invalid request"


class IdempotencyConflict(Invalid):
    """An ``Idempotency-Key`` was reused with a different body."""

    kind = "idempotency-conflict"
    title = "Idempotency key reused"


class RateLimited(ApiProblem):
    status = 429
    kind = "rate-limited"
    title = "Too many requests"


class Unavailable(ApiProblem):
    status = 503
    kind = "unavailable"
    title = "Service unavailable"


def etag(version: int) -> str:
    """The ETag header value of a record version."""
    return f'"{version}"'


def problem_document(problem: ApiProblem, *, status: int | None = None) -> dict[str, Any]:
    """The JSON members of a problem answer."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem.kind,
        "title": problem.title,
        "status": status or problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    body.update(problem.extra)
    return body


def problem_bytes(problem: ApiProblem, *, status: int | None = None) -> bytes:
    return json.dumps(problem_document(problem, status=status)).encode()


def problem_response(problem: ApiProblem) -> Response:
    return Response(
        problem_bytes(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )
