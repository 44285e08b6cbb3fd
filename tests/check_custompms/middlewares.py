"""ASGI middlewares that turn the reference Custompms into a broken or limited variant."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# (path, status, JSON body, request headers) -> (status, JSON body)
Rewrite = Callable[[str, int, Any, dict[bytes, bytes]], tuple[int, Any]]


def rewrite_answers(rewrite: Rewrite) -> Any:
    """An implementation whose JSON answers pass through ``rewrite``."""

    def middleware(inner: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            start: dict[str, Any] = {}
            chunks: list[bytes] = []

            async def rewriting_send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)
                    return
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body, status = b"".join(chunks), start["status"]
                if body:
                    status, data = rewrite(
                        scope["path"], status, json.loads(body), dict(scope["headers"])
                    )
                    body = json.dumps(data).encode()
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})

            await inner(scope, receive, rewriting_send)

        return app

    return middleware
