"""Trello-shaped answers: JSON with ``charset=utf-8``, and errors as text/plain bodies.

Routes raise ``TrelloHTTPError`` with the exact body real Trello sends (TRELLO_API.md §8);
the app turns it into a text/plain answer.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

NOT_FOUND = "The requested resource was not found."
MODEL_NOT_FOUND = "model not found"
INVALID_ID = "invalid id"
RATE_LIMITED = {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}


class TrelloHTTPError(Exception):
    """An error answer: status and the plain-text body Trello sends for it."""

    def __init__(self, status: int, text: str):
        self.status = status
        self.text = text
        super().__init__(f"{status} {text}")


def invalid_value(param: str) -> TrelloHTTPError:
    return TrelloHTTPError(400, f"invalid value for {param}")


def invalid_id() -> TrelloHTTPError:
    return TrelloHTTPError(400, INVALID_ID)


def not_found(text: str = NOT_FOUND) -> TrelloHTTPError:
    return TrelloHTTPError(404, text)


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class TrelloJSON(Response):
    """200 with ``application/json; charset=utf-8``, as Trello answers every success."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def text_answer(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type=TEXT_TYPE)


def error_answer(status: int) -> tuple[int, str, bytes]:
    """The body of an injected 5xx, for ``SandboxControl``: plain text as Trello's."""
    texts = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    return status, TEXT_TYPE, texts.get(status, "Server Error").encode()


def rate_limit_answer() -> tuple[int, str, bytes]:
    """Trello's per-token 429 answer, for ``SandboxControl``."""
    return 429, JSON_TYPE, json_bytes(RATE_LIMITED)
