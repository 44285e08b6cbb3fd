"""Turn a Custompms error answer (RFC 9457 problem+json) into a pmbridge error.

Each message says what happened and what to do, names Custompms, and never holds the token
(any echo of it in a server's text is masked).
"""

from __future__ import annotations

from typing import Any

import httpx

from pmbridge.errors import (
    AuthenticationError,
    GoneError,
    InvalidValueError,
    NotFoundError,
    RemoteSystemError,
    StaleVersionError,
)

SYSTEM = "custompms"
TOKEN_HINT = "check PMBRIDGE_CUSTOMPMS_TOKEN"


def read_problem(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error answer; ``{}`` when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def field_errors(problem: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` pairs of the problem's ``errors`` list."""
    pairs = []
    for item in problem.get("errors") or []:
        if isinstance(item, dict) and item.get("field"):
            pairs.append((str(item["field"]), str(item.get("message") or "invalid")))
    return pairs


def _version(value: Any) -> str | None:
    return None if value is None else str(value)


def error_for(
    response: httpx.Response,
    *,
    action: str,
    what: str,
    token: str,
    if_match: str | None = None,
) -> RemoteSystemError:
    """The error for a non-retryable, non-2xx answer.

    :param action: the request as a person reads it: ``PATCH /tasks/{id}``
    :param what: the object concerned: ``task 42`` or ``tasks``
    :param token: masked wherever the server's own text is quoted
    :param if_match: the version a conditional write sent
    """
    status = response.status_code
    problem = read_problem(response)
    detail = str(problem.get("detail") or problem.get("title") or "").replace(token, "***")
    detail_note = f" ({detail})" if detail else ""
    if status == 401:
        return AuthenticationError(
            f"Custompms rejected the token: {TOKEN_HINT}", system=SYSTEM, status=status
        )
    if status == 403:
        return AuthenticationError(
            f"Custompms refused {action} for this token{detail_note}: {TOKEN_HINT} "
            "and the token's permissions",
            system=SYSTEM,
            status=status,
        )
    if status == 404:
        return NotFoundError(
            f"Custompms has no {what}{detail_note}: it never existed there, or the Custompms "
            "URL is not the API root",
            system=SYSTEM,
            status=status,
        )
    if status == 410:
        current = _version(problem.get("current_version"))
        version_note = f" (now version {current})" if current else ""
        return GoneError(
            f"Custompms {what} was deleted{version_note}; restore it before changing it",
            system=SYSTEM,
            status=status,
            id=str(problem["id"]) if problem.get("id") else None,
            current_version=current,
        )
    if status == 412:
        current = _version(problem.get("current_version"))
        if current is None:
            etag = response.headers.get("etag", "").strip('W/"')
            current = etag or None
        return StaleVersionError(
            f"Custompms {what} changed since version {if_match}"
            f"{f' (now version {current})' if current else ''}: re-read it and merge",
            system=SYSTEM,
            current_version=current,
        )
    if status in (400, 422):
        pairs = field_errors(problem)
        if pairs:
            listed = "; ".join(f"{field}: {message}" for field, message in pairs)
            reason = listed.replace(token, "***")
        else:
            reason = detail or f"HTTP {status}"
        return InvalidValueError(
            f"Custompms rejected {action} ({what}): {reason}; fix the value and try again",
            system=SYSTEM,
            status=status,
            field=pairs[0][0] if pairs else None,
        )
    return RemoteSystemError(
        f"Custompms answered {status} to {action}{detail_note}", system=SYSTEM, status=status
    )
