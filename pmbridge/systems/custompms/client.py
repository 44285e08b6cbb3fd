"""Async HTTP client for the Custompms contract (``docs/custompms-api.yaml``).

It speaks the wire format (plain JSON dicts) and nothing else: feed paging, reads and
conditional/idempotent writes, retries of transient failures, and typed errors from
``pmbridge.errors``. The token travels only in the ``Authorization`` header.

One module because it is the one HTTP client of the contract; its retry layer is
``pmbridge.systems.http``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from pmbridge.errors import (
    ConfigError,
    InvalidValueError,
    NotFoundError,
    RateLimitedError,
    RemoteSystemError,
    StaleVersionError,
    UnavailableError,
)
from pmbridge.systems.custompms.problems import SYSTEM, error_for
from pmbridge.systems.custompms.values import same_wire_value
from pmbridge.systems.http import Retryable, RetryPolicy, parse_retry_after, send_with_retries

log = logging.getLogger(__name__)

RESOURCES = ("customers", "projects", "tasks", "comments")
# Transport errors raised before a request left us: the server cannot have acted on them.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a change feed.

    :param items: records and tombstones (``"deleted": true``), in change order
    :param next_since: the cursor to read on from
    :param has_more: more changes wait; read again at once
    """

    items: list[dict[str, Any]]
    next_since: str
    has_more: bool


@dataclass(slots=True)
class _Exchange:
    """What one logical request went through, over all its tries."""

    maybe_applied: bool = False


def _singular(resource: str) -> str:
    return resource[:-1]


class CustompmsClient:
    """A client for one Custompms server.

    :param base_url: the API root, e.g. ``http://127.0.0.1:8765``
    :param token: the bearer token (sent only in the Authorization header)
    :param http: an ``httpx.AsyncClient`` to use (its owner closes it); one is made otherwise
    :param retry: how to retry transient failures (default ``RetryPolicy()``)
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ):
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(
                f"the Custompms URL {base_url!r} is not an http(s) URL with a host, "
                "e.g. http://127.0.0.1:8765"
            )
        if not token or not token.strip():
            raise ConfigError("no Custompms token given: set PMBRIDGE_CUSTOMPMS_TOKEN")
        self.base_url = str(url.copy_with(username=None, password=None)).rstrip("/")
        self.host = f"{url.host}:{url.port}" if url.port else url.host
        self._token = token
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        self.retry = retry or RetryPolicy()
        #: called before each retry (``pmbridge serve`` counts them for /metrics)
        self.retry_listeners: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"CustompmsClient({self.base_url!r})"

    def _retried(self) -> None:
        for listener in self.retry_listeners:
            listener()

    async def aclose(self) -> None:
        """Close the connections, if this client made its own ``httpx.AsyncClient``."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> CustompmsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- reading ---------------------------------------------------------------------------

    async def feed(self, resource: str, since: str | None = None, limit: int = 100) -> FeedPage:
        """One page of ``resource``'s change feed after ``since`` (``None``: from the start)."""
        _check_resource(resource)
        if not 1 <= limit <= 1000:
            raise ValueError(f"feed limit must be between 1 and 1000, not {limit}")
        params: dict[str, str | int] = {"limit": limit}
        if since is not None:
            params["since"] = since
        body = await self._json("GET", f"/{resource}", resource, params=params)
        try:
            items, next_since, has_more = body["items"], body["next_since"], body["has_more"]
        except (KeyError, TypeError):
            raise self._malformed("GET", f"/{resource}", "a feed page") from None
        if not isinstance(items, list) or not isinstance(next_since, str):
            raise self._malformed("GET", f"/{resource}", "a feed page")
        return FeedPage(items=items, next_since=next_since, has_more=bool(has_more))

    async def capabilities(self) -> dict[str, Any] | None:
        """The server's ``GET /capabilities`` document; ``None`` when it answers 404 (a
        contract 1.0 server, without the optional parts)."""
        try:
            return await self._json("GET", "/capabilities", "capabilities")
        except NotFoundError:
            return None

    async def get(self, resource: str, id: str) -> dict[str, Any]:
        """One live record. ``NotFoundError`` when unknown, ``GoneError`` when deleted."""
        _check_resource(resource)
        return await self._json("GET", _item_path(resource, id), f"{_singular(resource)} {id}")

    # -- writing ---------------------------------------------------------------------------

    async def create(
        self, resource: str, body: Mapping[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """Create a record; repeating it with the same key returns the first one.

        ``GoneError`` (with ``id``) when this key created a record that is deleted now.
        """
        _check_resource(resource)
        if not idempotency_key or not all(0x21 <= ord(c) <= 0x7E for c in idempotency_key):
            raise ValueError("an Idempotency-Key is 1–255 visible ASCII characters")
        return await self._json(
            "POST",
            f"/{resource}",
            f"new {_singular(resource)}",
            body=dict(body),
            headers={"Idempotency-Key": idempotency_key},
        )

    async def update(
        self,
        resource: str,
        id: str,
        body: Mapping[str, Any],
        if_match: str | int | None = None,
    ) -> dict[str, Any]:
        """Change some properties; with ``if_match``, only if the version is still that one
        (else ``StaleVersionError`` carrying ``current_version``)."""
        _check_resource(resource)
        version = None if if_match is None else _version_number(if_match)
        headers = {"If-Match": f'"{version}"'} if version is not None else {}
        path = _item_path(resource, id)
        exchange = _Exchange()
        try:
            return await self._json(
                "PATCH",
                path,
                f"{_singular(resource)} {id}",
                body=dict(body),
                headers=headers,
                if_match=None if version is None else str(version),
                exchange=exchange,
            )
        except StaleVersionError:
            # A try whose answer was lost may have applied this very PATCH; the retry then
            # meets its own new version. Exactly one version later and holding our values
            # means it was ours.
            if version is None or not exchange.maybe_applied:
                raise
            current = await self.get(resource, id)
            if current.get("version") == version + 1 and _holds(current, body):
                return current
            raise

    async def restore(
        self,
        resource: str,
        id: str,
        body: Mapping[str, Any] | None = None,
        if_match: str | int | None = None,
    ) -> dict[str, Any]:
        """Bring back a soft-deleted record, changing ``body``'s properties in the same step."""
        return await self.update(resource, id, {**(body or {}), "deleted": False}, if_match)

    async def delete(self, resource: str, id: str) -> None:
        """Soft-delete a record (deleting a deleted one is fine; ``NotFoundError`` if unknown)."""
        _check_resource(resource)
        await self._send("DELETE", _item_path(resource, id), f"{_singular(resource)} {id}")

    # -- the wire --------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        if_match: str | None = None,
        exchange: _Exchange | None = None,
    ) -> dict[str, Any]:
        response = await self._send(
            method,
            path,
            what,
            params=params,
            body=body,
            headers=headers,
            if_match=if_match,
            exchange=exchange,
        )
        try:
            data = response.json()
        except ValueError:
            raise self._malformed(method, path, "JSON") from None
        if not isinstance(data, dict):
            raise self._malformed(method, path, "a JSON object")
        return data

    async def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        if_match: str | None = None,
        exchange: _Exchange | None = None,
    ) -> httpx.Response:
        """Send with retries; a 2xx answer, or the typed error for the final answer."""
        exchange = exchange or _Exchange()
        action = f"{method} {path}"
        content = None if body is None else _encode(body, action)

        async def attempt(number: int) -> httpx.Response:
            return await self._try(method, path, params, content, headers, exchange, number)

        response = await send_with_retries(
            self.retry,
            attempt,
            log=log,
            what=f"Custompms at {self.host}: {action}",
            on_retry=self._retried,
        )
        if response.is_success:
            return response
        raise error_for(response, action=action, what=what, token=self._token, if_match=if_match)

    async def _try(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        exchange: _Exchange,
        number: int,
    ) -> httpx.Response:
        """One try: the answer, or ``Retryable`` for a transient failure."""
        writes = method != "GET"
        extra = {"Content-Type": "application/json"} if content is not None else {}
        action = f"{method} {path}"
        try:
            response = await self._http.request(
                method,
                self.base_url + path,
                params=params,
                content=content,
                headers={
                    **(headers or {}),
                    **extra,
                    "Accept": "application/json",
                    "Authorization": f"Bearer {self._token}",
                },
            )
        except httpx.TransportError as err:
            if writes and not isinstance(err, _NOT_SENT):
                exchange.maybe_applied = True
            reason = _transport_reason(err)
            raise Retryable(
                self._unavailable(reason, action, number, exchange, None), reason=reason
            ) from err
        log.debug("Custompms %s %s → %s", method, path, response.status_code)
        status = response.status_code
        if status == 429:
            raise Retryable(
                self._rate_limited(action, number),
                parse_retry_after(response.headers.get("retry-after")),
                reason="answered 429",
            )
        if status >= 500:
            if writes:
                exchange.maybe_applied = True
            raise Retryable(
                self._unavailable(f"answered {status}", action, number, exchange, status),
                parse_retry_after(response.headers.get("retry-after")),
                reason=f"answered {status}",
            )
        return response

    def _rate_limited(self, action: str, tries: int) -> RemoteSystemError:
        return RateLimitedError(
            f"Custompms at {self.host} kept answering 429 (too many requests) "
            f"({action}, {_tries(tries)}): slow down, or raise the server's rate limit",
            system=SYSTEM,
            status=429,
        )

    def _unavailable(
        self, reason: str, action: str, tries: int, exchange: _Exchange, status: int | None
    ) -> RemoteSystemError:
        if status is not None:
            advice = "check the Custompms server's health and try again later"
        else:
            advice = "check that it is running and that the Custompms URL is right"
        return UnavailableError(
            f"Custompms at {self.host} {reason} ({action}, {_tries(tries)}): {advice}",
            system=SYSTEM,
            status=status,
            maybe_applied=exchange.maybe_applied,
        )

    def _malformed(self, method: str, path: str, expected: str) -> RemoteSystemError:
        return RemoteSystemError(
            f"Custompms at {self.host} answered {method} {path} with something that is not "
            f"{expected}: check that the Custompms URL is the API root",
            system=SYSTEM,
        )


def _tries(count: int) -> str:
    return f"{count} {'try' if count == 1 else 'tries'}"


def _transport_reason(error: httpx.TransportError) -> str:
    """What went wrong when no answer came: "did not answer in time"…"""
    if isinstance(error, httpx.TimeoutException):
        return "did not answer in time"
    if isinstance(error, httpx.ConnectError):
        return "could not be reached"
    return "dropped the connection"


def _encode(body: dict[str, Any], action: str) -> bytes:
    try:
        return json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as err:
        raise InvalidValueError(
            f"cannot send {action} to Custompms: {err} (values must be JSON: text, numbers "
            "that are finite, booleans, null)",
            system=SYSTEM,
        ) from None


def _version_number(value: str | int) -> int:
    """A record version given as ``3``, ``"3"`` or as an ETag: ``'"3"'``, ``'W/"3"'``."""
    text = str(value).strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a Custompms record version (an integer)")
    return int(text)


def _check_resource(resource: str) -> None:
    if resource not in RESOURCES:
        raise ValueError(f"unknown Custompms resource {resource!r}; known: {', '.join(RESOURCES)}")


def _item_path(resource: str, id: str) -> str:
    if not id:
        raise ValueError(f"an empty id for Custompms {resource}")
    return f"/{resource}/{quote(str(id), safe='')}"


def _holds(record: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether ``record`` already carries every value of ``body`` (as the server echoes them)."""
    return all(
        same_wire_value(bool(record.get("deleted")), value)
        if key == "deleted"
        else same_wire_value(record.get(key), value)
        for key, value in body.items()
    )
