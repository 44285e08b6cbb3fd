"""``/1/batch``: up to 10 GET routes in one call, answered in url order as ``{"<status>": body}``.

Each url is a GET route without the ``/1`` prefix. Commas separate the urls; a comma inside
a url's query (``fields=name,desc``) stays, since only a comma followed by ``/`` starts a
new url. The sandbox's injected 5xx share reaches each url (``SandboxControl.inner_error``):
that url answers the error in its place, the others their own answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import APIRouter, Request

from pmbridge.sandbox.trello.answers import TrelloJSON, error_answer, invalid_value
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.routes.common import answer

router = APIRouter(tags=["batch"])

MAX_URLS = 10
_URL_SEPARATOR = re.compile(r",(?=/)")


def split_urls(values: list[str]) -> list[str]:
    urls: list[str] = []
    for value in values:
        urls.extend(u.strip() for u in _URL_SEPARATOR.split(value) if u.strip())
    return urls


@router.get("/batch")
async def batch(request: Request, auth: AuthDep) -> TrelloJSON:
    urls = split_urls(request.query_params.getlist("urls"))
    if not urls or len(urls) > MAX_URLS:
        raise invalid_value("urls")
    headers = {
        "Authorization": f'OAuth oauth_consumer_key="{auth.key}", oauth_token="{auth.token}"'
    }
    results: list[dict[str, Any]] = []
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://trello.sandbox") as client:
        for url in urls:
            if not url.startswith("/") or url.split("?")[0].rstrip("/") == "/batch":
                results.append({"400": "invalid value for urls"})
                continue
            failed = request.app.state.control.inner_error("GET", "/1" + url.split("?")[0])
            if failed is not None:
                _, _, text = error_answer(failed)
                results.append({str(failed): text.decode()})
                continue
            reply = await client.get("/1" + url, headers=headers)
            results.append({str(reply.status_code): _body(reply)})
    return answer(results)


def _body(reply: httpx.Response) -> Any:
    if reply.headers.get("content-type", "").startswith("application/json"):
        try:
            return reply.json()
        except json.JSONDecodeError:
            pass
    return reply.text
