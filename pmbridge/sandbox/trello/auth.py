"""Authentication of the Trello sandbox: API key + member token, as Trello reads them.

Key and token come from the query string (``?key=…&token=…``), the
``Authorization: OAuth oauth_consumer_key="…", oauth_token="…"`` header, or form/JSON body
fields; under ``/1/tokens/{token}`` the token in the path is enough. Failures answer 401
with Trello's text/plain bodies (``invalid key``, ``invalid token``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pmbridge.sandbox.trello.answers import TrelloHTTPError
from pmbridge.sandbox.trello.params import read_body
from pmbridge.sandbox.trello.world import Member, World

_OAUTH_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class AuthContext:
    """Who is calling: the API key, the token and the member the token acts as."""

    key: str
    token: str
    member: Member


def oauth_header_values(header: str) -> dict[str, str]:
    """The ``name="value"`` pairs of an ``Authorization: OAuth …`` header ({} if not OAuth)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return {}
    return dict(_OAUTH_PARAM.findall(rest))


def credentials_of(query: dict[str, str], header: str, body: dict[str, object]) -> tuple[str, str]:
    """(key, token) from wherever the client put them; "" when absent."""
    oauth = oauth_header_values(header)
    key = query.get("key") or oauth.get("oauth_consumer_key") or body.get("key") or ""
    token = query.get("token") or oauth.get("oauth_token") or body.get("token") or ""
    return str(key), str(token)


def check_credentials(world: World, expected_key: str, key: str, token: str) -> AuthContext:
    """The caller, or a 401 as Trello answers it."""
    if not key or key.lower() != expected_key.lower():
        raise TrelloHTTPError(401, "invalid key")
    member = world.member_by_token(token) if token else None
    if member is None:
        raise TrelloHTTPError(401, "invalid token")
    return AuthContext(key=key, token=token, member=member)


async def authenticate(request: Request) -> AuthContext:
    """FastAPI dependency used by every ``/1`` route."""
    body = await read_body(request)
    key, token = credentials_of(
        dict(request.query_params.items()), request.headers.get("authorization", ""), body
    )
    world: World = request.app.state.world
    return check_credentials(world, request.app.state.config.key, key, token)


async def authenticate_path_token(request: Request, token: str) -> AuthContext:
    """For ``/1/tokens/{token}/…``: the token in the path is the credential; only the key
    must accompany it. A different token sent alongside is refused (``unauthorized token``)."""
    body = await read_body(request)
    key, sent = credentials_of(
        dict(request.query_params.items()), request.headers.get("authorization", ""), body
    )
    world: World = request.app.state.world
    if sent and not hmac.compare_digest(sent.encode(), token.encode()):
        check_credentials(world, request.app.state.config.key, key, sent)
        raise TrelloHTTPError(401, "unauthorized token")
    return check_credentials(world, request.app.state.config.key, key, token)


AuthDep = Annotated[AuthContext, Depends(authenticate)]
PathTokenAuthDep = Annotated[AuthContext, Depends(authenticate_path_token)]
