"""Refuse request bodies over a size limit before reading them (413, problem+json).

``BodyLimit`` is an ASGI middleware: a ``Content-Length`` over the limit is answered at once,
without reading the body; a body sent without one (chunked) is counted as it streams in and
refused as soon as it passes the limit, by raising ``TooLarge`` from ``receive`` (the app's
problem handler answers it).
"""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.custompms.problems import ApiProblem, problem_response

MAX_BODY_BYTES = 1024 * 1024


class TooLarge(ApiProblem):
    """The request body is over the server's limit."""

    status = 413
    kind = "too-large"
    title = "Request body too large"


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The request body is over {limit:,} bytes, the most this Custompms accepts; "
        "send less at once."
    )


class BodyLimit:
    """Wrap ``app`` so that no request body over ``max_bytes`` reaches it."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await problem_response(too_large(self.max_bytes))(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
