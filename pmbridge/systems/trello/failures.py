"""Turn Trello's refusals and failures into pmbridge's typed errors, with messages that say
what to do.

Trello sends most error bodies as ``text/plain`` (``invalid key``, ``invalid value for
name``…), some as JSON (``{"message": …, "error": …}``); both are accepted
(reference/TRELLO_API.md §2, §8). Messages name the request as ``METHOD /path`` (no query
string) and never contain the key or the token: bodies are scrubbed of both.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pmbridge.errors import (
    AuthenticationError,
    InvalidValueError,
    NotFoundError,
    RateLimitedError,
    RemoteSystemError,
    UnavailableError,
)

SYSTEM = "trello"
KEY_HELP = "check PMBRIDGE_TRELLO_KEY (32 hex characters from https://trello.com/power-ups/admin)"
TOKEN_HELP = (
    "it is wrong, expired or revoked: create a new token for your API key "
    "(https://trello.com/1/authorize?scope=read,write&expiration=never&key=<your key>) "
    "and set PMBRIDGE_TRELLO_TOKEN"
)
_INVALID_VALUE = re.compile(r"invalid value for (\w[\w/.]*)", re.IGNORECASE)
_MAX_BODY = 300


def body_message(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The human part of an error body (text or JSON), short and without secrets."""
    message = text.strip()
    try:
        data = json.loads(message)
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("message", "error") if data.get(k)]
        message = ": ".join(dict.fromkeys(parts)) or message
    elif isinstance(data, str):
        message = data
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    if len(message) > _MAX_BODY:
        message = message[:_MAX_BODY] + "…"
    return message or "(no message)"


def refusal(status: int, message: str, request: str) -> RemoteSystemError:
    """The error for a final, non-retryable 4xx answer.

    :param status: the HTTP status
    :param message: the scrubbed body (``body_message``)
    :param request: ``METHOD /path`` of the refused request
    """
    lowered = message.lower()
    if status == 401 or (status == 403 and _about_access(lowered)):
        return AuthenticationError(_auth_message(lowered, message, request), **_meta(status))
    if status == 404:
        return NotFoundError(
            f"Trello has nothing at {request} ({message}): the object was deleted, or the "
            "token's member cannot see it",
            **_meta(status),
        )
    found = _INVALID_VALUE.search(message)
    if status == 400 and found:
        field = found.group(1)
        return InvalidValueError(
            f"Trello rejected the value of '{field}': {message} ({request}); correct that "
            "value in the record it came from",
            field=field,
            **_meta(status),
        )
    if status == 400 and lowered.startswith("invalid id"):
        return InvalidValueError(
            f"Trello rejected the id in {request}: {message} (a Trello id is 24 hex "
            "characters; the stored link may be corrupt)",
            field="id",
            **_meta(status),
        )
    return InvalidValueError(
        f"Trello refused {request} with {status}: {message}; the same request will fail the "
        "same way, so correct the record it came from",
        **_meta(status),
    )


def rate_limited(message: str, request: str, attempts: int) -> RateLimitedError:
    """The error when Trello still answers 429 after every attempt."""
    return RateLimitedError(
        f"Trello kept refusing {request} for its rate limit ({message}) after {attempts} "
        "attempts: another program may be using the same token or API key; wait a minute "
        "or lower the request rate (TrelloLimits)",
        **_meta(429),
    )


def server_failed(status: int, message: str, request: str, attempts: int) -> UnavailableError:
    """The error when Trello still answers 5xx after every attempt."""
    return UnavailableError(
        f"Trello answered {status} to {request} {attempts} times in a row ({message}): Trello "
        "is having trouble; the next run will try again",
        **_meta(status),
    )


def unreachable(reason: str, request: str, *, maybe_applied: bool = False) -> UnavailableError:
    """The error for a connection failure (after retries, or at once for a sent POST)."""
    if maybe_applied:
        text = (
            f"The connection to Trello broke after {request} was sent ({reason}): the write "
            "may have taken effect, so it is not repeated blindly; look for the object before "
            "creating it again"
        )
    else:
        text = (
            f"Could not reach Trello for {request} ({reason}): check the network and the "
            "Trello API address"
        )
    return UnavailableError(text, system=SYSTEM, maybe_applied=maybe_applied)


def bad_answer(request: str, detail: str) -> UnavailableError:
    """The error when Trello's answer cannot be understood (e.g. not JSON)."""
    return UnavailableError(
        f"Trello's answer to {request} could not be understood ({detail}); if this persists, "
        "check that the Trello API address points at Trello",
        system=SYSTEM,
    )


def transport_reason(error: Exception, secrets: tuple[str, ...] = ()) -> str:
    """A short, secret-free description of a connection failure."""
    detail = body_message(str(error), secrets) if str(error) else ""
    name = type(error).__name__
    return f"{name}: {detail}" if detail and detail != "(no message)" else name


def _about_access(lowered: str) -> bool:
    return any(word in lowered for word in ("unauthorized", "permission", "scope", "token"))


def _auth_message(lowered: str, message: str, request: str) -> str:
    if "invalid key" in lowered:
        return f"Trello rejected the API key: {KEY_HELP}"
    if "invalid token" in lowered or "expired token" in lowered:
        return f"Trello rejected the token: {TOKEN_HELP}"
    if "scope" in lowered:
        return (
            f"The Trello token may not do {request} ({message}): create a token with the "
            "scope read,write and set PMBRIDGE_TRELLO_TOKEN"
        )
    if "unauthorized" in lowered or "permission" in lowered:
        return (
            f"Trello refused {request} ({message}): the token's member has no access to that "
            "object; add the member to the workspace or board, or use a token of a member who "
            "has access"
        )
    return (
        f"Trello refused the credentials for {request} ({message}): {KEY_HELP}, and check "
        "PMBRIDGE_TRELLO_TOKEN"
    )


def _meta(status: int) -> dict[str, Any]:
    return {"system": SYSTEM, "status": status}
