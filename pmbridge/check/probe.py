"""``Probe``: the conformance suite's raw HTTP session with a Custompms implementation.

It sends exactly what a check asks (no retries, no typed errors, so every status is seen),
turns unexpected answers into ``CheckFailed`` with a specific reason, remembers every record
it created, and soft-deletes them all in ``cleanup``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from pmbridge.check.capabilities import VERSION_1, Capabilities, parse_capabilities
from pmbridge.check.results import CheckFailed

# Sentinel: send the probe's own token.
OWN_TOKEN = object()
RESOURCE_ORDER = ("customers", "projects", "tasks", "comments", "people")
T = TypeVar("T")


class Unreachable(Exception):
    """The implementation cannot be reached at all (no connection, timeout)."""


def describe(response: httpx.Response) -> str:
    """A status and, for a problem document, its detail and field errors: ``422 (title: …)``."""
    text = str(response.status_code)
    try:
        body = response.json()
    except ValueError:
        return text
    if not isinstance(body, dict):
        return text
    fields = [
        f"{item.get('field')}: {item.get('message')}"
        for item in body.get("errors") or []
        if isinstance(item, dict)
    ]
    detail = "; ".join(fields) or body.get("detail") or body.get("title")
    return f"{text} ({detail})" if detail else text


def is_problem(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/problem+json")


class Probe:
    """A session with one implementation.

    :param base_url: its API root
    :param token: a token it accepts
    :param http: the HTTP client to send with
    """

    def __init__(self, base_url: str, token: str, http: httpx.AsyncClient):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = http
        self.run_id = secrets.token_hex(3)
        self.created: list[tuple[str, str]] = []
        self._parents: dict[str, str] = {}
        self._head: str | None = None
        self._shared: dict[str, object] = {}
        self._capabilities: Capabilities | None = None

    async def capabilities(self) -> Capabilities:
        """What the implementation declares (read once); 404 means version 1.0."""
        if self._capabilities is None:
            response = await self.call("GET", "/capabilities")
            if response.status_code == 404:
                self._capabilities = VERSION_1
            else:
                self.expect(response, 200, "GET /capabilities")
                self._capabilities = parse_capabilities(self.json_of(response, "GET /capabilities"))
        return self._capabilities

    async def status(self, index: int) -> str:
        """One of the implementation's task statuses (they repeat when it has few). A broken
        capabilities document fails its own check; the others then use the default ones."""
        try:
            statuses = (await self.capabilities()).usable_statuses
        except CheckFailed:
            statuses = VERSION_1.usable_statuses
        return statuses[index % len(statuses)]

    def label(self, text: str) -> str:
        """A recognisable name for something the suite creates."""
        return f"pmbridge check {self.run_id}: {text}"

    def new_key(self) -> str:
        return f"pmbridge-check-{self.run_id}-{secrets.token_hex(8)}"

    async def shared(self, name: str, setup: Callable[[Probe], Awaitable[T]]) -> T:
        """``setup``'s result, made once and shared by the checks that need it; when the
        setup failed, every one of them fails with its reason."""
        if name not in self._shared:
            try:
                self._shared[name] = await setup(self)
            except CheckFailed as err:
                self._shared[name] = err
        outcome = self._shared[name]
        if isinstance(outcome, CheckFailed):
            raise CheckFailed(f"setting up the {name} failed: {outcome}")
        return outcome  # type: ignore[return-value]

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: object = OWN_TOKEN,
    ) -> httpx.Response:
        """Send one request; ``token=None`` sends none, a string sends that one."""
        sent = dict(headers or {})
        bearer = self.token if token is OWN_TOKEN else token
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        try:
            response = await self.http.request(
                method, self.base_url + path, json=body, params=params, headers=sent
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            raise Unreachable(f"{method} {path}: {err or type(err).__name__}") from err
        except httpx.TransportError as err:
            raise CheckFailed(
                f"{method} {path} failed without an answer ({type(err).__name__}: {err})"
            ) from err
        if method == "POST" and response.status_code in (200, 201):
            self._remember(path, response)
        return response

    def _remember(self, path: str, response: httpx.Response) -> None:
        resource = path.strip("/").split("/")[0]
        try:
            record = response.json()
        except ValueError:
            return
        if resource in RESOURCE_ORDER and isinstance(record, dict) and record.get("id"):
            entry = (resource, str(record["id"]))
            if entry not in self.created:
                self.created.append(entry)

    @staticmethod
    def expect(response: httpx.Response, status: int, doing: str) -> None:
        """Fail unless ``response`` has ``status``."""
        if response.status_code != status:
            raise CheckFailed(f"{doing} answered {describe(response)}: expected {status}")

    @staticmethod
    def json_of(response: httpx.Response, doing: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise CheckFailed(f"{doing} answered a body that is not JSON") from None
        if not isinstance(body, dict):
            raise CheckFailed(f"{doing} answered JSON that is not an object")
        return body

    async def create(
        self, resource: str, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        """POST a record (with an Idempotency-Key) and expect 201 and a record."""
        key = key or self.new_key()
        response = await self.call(
            "POST", f"/{resource}", body=body, headers={"Idempotency-Key": key}
        )
        doing = f"POST /{resource}"
        self.expect(response, 201, doing)
        record = self.json_of(response, doing)
        check_record(record, doing)
        return record

    async def parent(self, resource: str) -> str:
        """The id of a live record of ``resource`` for children to hang on (made once)."""
        if resource not in self._parents:
            if resource == "customers":
                body: dict[str, Any] = {"name": self.label("parent customer")}
            elif resource == "projects":
                body = {"name": self.label("parent project"), "customer_id": None}
            else:
                body = {"project_id": await self.parent("projects"), "title": self.label("task")}
            self._parents[resource] = str((await self.create(resource, body))["id"])
        return self._parents[resource]

    async def feed_page(self, resource: str, since: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        query = f"since={since}&limit={limit}" if since is not None else f"limit={limit}"
        doing = f"GET /{resource}?{query}"
        response = await self.call("GET", f"/{resource}", params=params)
        self.expect(response, 200, doing)
        page = self.json_of(response, doing)
        if not isinstance(page.get("items"), list) or not isinstance(page.get("next_since"), str):
            raise CheckFailed(f"{doing} answered no items list or no next_since cursor")
        if not isinstance(page.get("has_more"), bool):
            raise CheckFailed(f"{doing} answered no has_more boolean")
        return page

    async def head(self) -> str:
        """The cursor after every change made so far (read once, before the suite writes)."""
        if self._head is None:
            since: str | None = None
            for _ in range(10_000):
                page = await self.feed_page("tasks", since, 1000)
                since = page["next_since"]
                if not page["has_more"]:
                    self._head = since
                    return since
            raise CheckFailed("GET /tasks kept answering has_more=true for 10,000 pages")
        return self._head

    async def read_feed(self, resource: str, since: str, limit: int) -> list[dict[str, Any]]:
        """Every item after ``since``, page by page; fails on pages over ``limit`` items."""
        items: list[dict[str, Any]] = []
        for _ in range(10_000):
            page = await self.feed_page(resource, since, limit)
            if len(page["items"]) > limit:
                raise CheckFailed(
                    f"GET /{resource}?since={since}&limit={limit} answered "
                    f"{len(page['items'])} items"
                )
            items.extend(page["items"])
            if not page["has_more"]:
                return items
            since = page["next_since"]
        raise CheckFailed(f"GET /{resource} kept answering has_more=true for 10,000 pages")

    async def cleanup(self) -> tuple[int, list[str]]:
        """Soft-delete everything created, children first; (count deleted, problems)."""
        problems: list[str] = []
        deleted = 0
        for resource, id in reversed(self.created):
            try:
                response = await self.call("DELETE", f"/{resource}/{id}")
            except (Unreachable, CheckFailed) as err:
                problems.append(f"DELETE /{resource}/{id}: {err}")
                continue
            if response.status_code == 204:
                deleted += 1
            elif response.status_code != 410:
                problems.append(f"DELETE /{resource}/{id} answered {describe(response)}")
        return deleted, problems


def check_record(record: dict[str, Any], doing: str) -> None:
    """Fail unless ``record`` has the properties every live record has."""
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise CheckFailed(f"{doing} answered a record without a string id")
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckFailed(f"{doing} answered version {version!r}: expected an integer ≥ 1")
    for name in ("created_at", "updated_at"):
        value = record.get(name)
        if not isinstance(value, str) or not value.endswith("Z"):
            raise CheckFailed(f"{doing} answered {name}={value!r}: expected RFC 3339 UTC with Z")
    if record.get("deleted") is not False:
        raise CheckFailed(f"{doing} answered deleted={record.get('deleted')!r} for a live record")
