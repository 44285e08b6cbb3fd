"""An async client for the parts of Trello's REST API that pmbridge uses.

``TrelloClient`` returns Trello's JSON as plain dicts and lists. Every request goes through
one wrapper (``request``) that:

- authenticates with the ``Authorization: OAuth oauth_consumer_key="…", oauth_token="…"``
  header only, so the key and token never appear in a URL, a log line or an error;
- waits for a slot of the client's rate budget (``TrelloLimiter``), which follows the
  ``x-rate-limit-*`` counts Trello's answers report;
- retries 429s, 5xx answers and connection failures with exponential backoff and jitter,
  honouring ``Retry-After`` (``pmbridge.systems.http``); other 4xx are final;
- never repeats a POST whose answer was lost after it was sent: that raises
  ``UnavailableError(maybe_applied=True)``, because the object may have been created;
- turns failures into ``pmbridge.errors`` types (``failures.py``).

Parameters of GETs go in the query string, those of POSTs and PUTs in a form body
(reference/TRELLO_API.md §1), so long descriptions do not make long URLs.

One module because it is the one HTTP client of the routes pmbridge uses; card parts live in
``parts``/``parts_write``, retries in ``pmbridge.systems.http``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from pmbridge.concurrency import run_all
from pmbridge.errors import ConfigError, NotFoundError, RemoteSystemError
from pmbridge.systems.http import Retryable, RetryPolicy, parse_retry_after, send_with_retries
from pmbridge.systems.trello import failures
from pmbridge.systems.trello.limiter import TrelloLimiter, TrelloLimits
from pmbridge.systems.trello.values import encode_params

logger = logging.getLogger("pmbridge.systems.trello")

BATCH_SIZE = 10  # Trello's cap on the urls of one /batch call
ACTIONS_PAGE_SIZE = 1000  # Trello's cap on one page of actions
# Connection failures that prove the request never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def segment(value: str) -> str:
    """One path segment, quoted so an id can never change the route."""
    return quote(str(value), safe="")


def batch_url(path: str, params: Mapping[str, Any] | None = None) -> str:
    """A route for ``/batch``: ``path`` (without ``/1``) with its query string.

    Commas inside parameter values (``fields=id,name``) are percent-encoded so that they
    cannot be mistaken for the commas that separate the batch's urls.
    """
    if not params:
        return path
    return f"{path}?{urlencode(encode_params(dict(params)), quote_via=quote, safe='')}"


@dataclass(frozen=True, slots=True)
class ActionsQuery:
    """The actions of one board to read, newest first: every one after ``since`` (page after
    page, ``limit`` a page; Trello pages back with ``before=<oldest id so far>`` until a page
    comes back short, reference/TRELLO_API.md §7), or with ``every_page=False`` only the
    newest ``limit``; ``filter`` names action types."""

    board: str
    since: str | None = None
    limit: int = ACTIONS_PAGE_SIZE
    filter: str | None = None
    every_page: bool = True


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One answer inside a ``/batch`` response.

    :param url: the route asked for
    :param status: its HTTP status (200, 404, …)
    :param body: its JSON body, or the error text
    """

    url: str
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status == 200


class TrelloClient:
    """Trello's REST API as async methods returning the JSON.

    :param api_root: the API root, e.g. ``https://api.trello.com/1``
    :param key: the API key (32 hex characters)
    :param token: a token of the member to act as
    :param http: an ``httpx.AsyncClient`` to send with (not closed by ``aclose``); one is
        made when absent
    :param limits: the rate budget (default: Trello's published limits)
    :param retry: how transient failures are retried
    """

    def __init__(
        self,
        api_root: str,
        key: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        limits: TrelloLimits | None = None,
        retry: RetryPolicy | None = None,
    ):
        _check_credential("API key", "PMBRIDGE_TRELLO_KEY", key)
        _check_credential("token", "PMBRIDGE_TRELLO_TOKEN", token)
        if not api_root.startswith(("http://", "https://")):
            raise ConfigError(
                f"the Trello API root {api_root!r} is not an http(s) URL; use "
                "https://api.trello.com/1 (or a sandbox's URL followed by /1)"
            )
        self.api_root = api_root.rstrip("/")
        self._secrets = (key, token)
        self._auth = {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}
        self.limiter = TrelloLimiter(limits)
        self.retry = retry or RetryPolicy()
        #: called before each retry (``pmbridge serve`` counts them for /metrics)
        self.retry_listeners: list[Callable[[], None]] = []
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=self.limiter.limits.max_in_flight),
        )

    def __repr__(self) -> str:
        return f"TrelloClient(api_root={self.api_root!r}, key=<hidden>, token=<hidden>)"

    async def aclose(self) -> None:
        """Close the connections (only those of an ``http`` client this client made)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> TrelloClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the one way out -------------------------------------------------------------------

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Send one request (``path`` relative to the API root) and return its JSON.

        Retries transient failures per the policy; raises a ``RemoteSystemError`` subclass.
        """
        method = method.upper()
        encoded = encode_params(dict(params)) if params else None
        name = f"{method} {path}"

        async def attempt(number: int) -> Any:
            return await self._attempt(method, path, encoded, name, number)

        return await send_with_retries(
            self.retry, attempt, log=logger, what=f"Trello {name}", on_retry=self._retried
        )

    def _retried(self) -> None:
        for listener in self.retry_listeners:
            listener()

    async def _attempt(
        self, method: str, path: str, params: dict[str, str] | None, name: str, number: int
    ) -> Any:
        query = params if method in ("GET", "DELETE") else None
        form = params if method in ("POST", "PUT") else None
        async with self.limiter.slot(path) as ticket:
            try:
                response = await self._http.request(
                    method, self.api_root + path, params=query, data=form, headers=self._auth
                )
            except httpx.TransportError as err:
                reason = failures.transport_reason(err, self._secrets)
                if method == "POST" and not isinstance(err, _NOT_SENT):
                    raise failures.unreachable(reason, name, maybe_applied=True) from None
                raise Retryable(failures.unreachable(reason, name), reason=reason) from None
            self.limiter.observe(ticket, response.headers)
        status = response.status_code
        logger.debug("Trello %s -> %d (attempt %d)", name, status, number)
        if status < 400:
            return _json(response, name)
        message = failures.body_message(response.text, self._secrets)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            attempts = self.retry.attempts
            error: RemoteSystemError = (
                failures.rate_limited(message, name, attempts)
                if status == 429
                else failures.server_failed(status, message, name, attempts)
            )
            raise Retryable(error, retry_after, reason=f"answered {status}")
        raise failures.refusal(status, message, name)

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return _object(await self.request("GET", path, _present(params)), f"GET {path}")

    async def _get_list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return _objects(await self.request("GET", path, _present(params)), f"GET {path}")

    async def _post(self, path: str, **params: Any) -> dict[str, Any]:
        return _object(await self.request("POST", path, params), f"POST {path}")

    async def _put(self, path: str, **params: Any) -> dict[str, Any]:
        return _object(await self.request("PUT", path, params), f"PUT {path}")

    async def _delete(self, path: str) -> None:
        await self.request("DELETE", path)

    # -- members ---------------------------------------------------------------------------

    async def get_me(self, *, fields: str = "id,username,fullName") -> dict[str, Any]:
        """The member the token acts as (``/1/members/`` limit: call rarely)."""
        return await self._get("/members/me", fields=fields)

    async def get_my_organizations(
        self, *, fields: str | None = None, filter: str | None = None
    ) -> list[dict[str, Any]]:
        """The workspaces of the token's member (``/1/members/`` limit: call rarely)."""
        return await self._get_list("/members/me/organizations", fields=fields, filter=filter)

    # -- organizations (workspaces) ----------------------------------------------------------

    async def create_organization(self, display_name: str, **params: Any) -> dict[str, Any]:
        """``POST /organizations``; params: ``name``, ``desc``, ``website``."""
        return await self._post("/organizations", displayName=display_name, **params)

    async def get_organization(self, id: str, *, fields: str | None = None) -> dict[str, Any]:
        return await self._get(f"/organizations/{segment(id)}", fields=fields)

    async def update_organization(self, id: str, **params: Any) -> dict[str, Any]:
        """``PUT /organizations/{id}``; params: ``displayName``, ``desc``, ``website``, ``name``."""
        return await self._put(f"/organizations/{segment(id)}", **params)

    async def delete_organization(self, id: str) -> None:
        await self._delete(f"/organizations/{segment(id)}")

    # -- boards ----------------------------------------------------------------------------

    async def create_board(self, name: str, **params: Any) -> dict[str, Any]:
        """``POST /boards/``; params: ``desc``, ``idOrganization``, ``defaultLists``…"""
        return await self._post("/boards/", name=name, **params)

    async def get_board(self, id: str, *, fields: str | None = None) -> dict[str, Any]:
        return await self._get(f"/boards/{segment(id)}", fields=fields)

    async def update_board(self, id: str, **params: Any) -> dict[str, Any]:
        """``PUT /boards/{id}``; params: ``name``, ``desc``, ``closed``, ``idOrganization``."""
        return await self._put(f"/boards/{segment(id)}", **params)

    async def delete_board(self, id: str) -> None:
        await self._delete(f"/boards/{segment(id)}")

    async def get_board_lists(
        self, id: str, *, filter: str = "all", fields: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._get_list(f"/boards/{segment(id)}/lists", filter=filter, fields=fields)

    async def get_board_cards(
        self, id: str, *, filter: str = "all", fields: str | None = None, **nested: Any
    ) -> list[dict[str, Any]]:
        """The cards of a board; ``filter="all"`` includes archived ones. ``nested``: Trello's
        nested-resource parameters (``checklists="all"``, ``members=True``, …)."""
        path = f"/boards/{segment(id)}/cards/{segment(filter)}"
        return await self._get_list(path, fields=fields, **nested)

    async def get_board_actions(
        self,
        id: str,
        *,
        since: str | None = None,
        before: str | None = None,
        filter: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """One page of a board's actions, newest first."""
        return await self._get_list(
            f"/boards/{segment(id)}/actions",
            since=since,
            before=before,
            filter=filter,
            limit=limit,
        )

    async def list_board_actions(
        self,
        id: str,
        *,
        since: str | None = None,
        filter: str | None = None,
        page_size: int = ACTIONS_PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        """Every action of a board after ``since``, newest first (``boards_actions``)."""
        if not 1 <= page_size <= ACTIONS_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {ACTIONS_PAGE_SIZE}")
        [actions] = await self.boards_actions([ActionsQuery(id, since, page_size, filter=filter)])
        if actions is None:
            raise NotFoundError(
                f"Trello has no board {id}, or the token cannot see it", system="trello", status=404
            )
        return actions

    async def boards_actions(
        self, queries: Sequence[ActionsQuery]
    ) -> list[list[dict[str, Any]] | None]:
        """The actions each query asks for, newest first (``None``: no such board, or it is
        hidden from the token), with the pages of many boards in few calls.

        Each round asks every board that still has a page to read: up to 10 of them ride in
        one ``/batch`` call (Trello's advice for staying within the rate limit), a lone page
        goes on its own route. An answer inside a batch other than 200 or 404 is asked again
        on its own route, where the retries and errors of ``request`` apply.
        """
        found: list[list[dict[str, Any]]] = [[] for _ in queries]
        gone: set[int] = set()
        pending: list[tuple[int, str | None]] = [(i, None) for i in range(len(queries))]
        while pending:
            pages = await self._board_action_pages([(queries[i], before) for i, before in pending])
            later: list[tuple[int, str | None]] = []
            for (i, _), page in zip(pending, pages, strict=True):
                if page is None:
                    gone.add(i)
                    continue
                found[i].extend(page)
                if queries[i].every_page and len(page) >= queries[i].limit:
                    later.append((i, page[-1]["id"]))
            pending = later
        return [None if i in gone else actions for i, actions in enumerate(found)]

    async def _board_action_pages(
        self, asks: Sequence[tuple[ActionsQuery, str | None]]
    ) -> list[list[dict[str, Any]] | None]:
        params = [
            _present({"since": q.since, "before": before, "filter": q.filter, "limit": q.limit})
            for q, before in asks
        ]
        if len(asks) == 1:
            return [await self._board_action_page(asks[0][0].board, params[0])]
        paths = [f"/boards/{segment(query.board)}/actions" for query, _ in asks]
        items = await self.batch([batch_url(p, q) for p, q in zip(paths, params, strict=True)])
        pages: list[list[dict[str, Any]] | None] = []
        for (query, _), path, query_params, item in zip(asks, paths, params, items, strict=True):
            if item.ok:
                pages.append(_objects(item.body, f"GET {path} inside GET /batch"))
            elif item.status == 404:
                pages.append(None)
            else:
                pages.append(await self._board_action_page(query.board, query_params))
        return pages

    async def _board_action_page(
        self, board: str, params: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None:
        try:
            return await self.get_board_actions(board, **params)
        except NotFoundError:
            return None

    # -- lists -----------------------------------------------------------------------------

    async def create_list(
        self, board_id: str, name: str, *, pos: float | str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "idBoard": board_id}
        if pos is not None:
            params["pos"] = pos
        return await self._post("/lists", **params)

    async def update_list(self, id: str, **params: Any) -> dict[str, Any]:
        """``PUT /lists/{id}``; params: ``name``, ``closed``, ``idBoard``, ``pos``."""
        return await self._put(f"/lists/{segment(id)}", **params)

    # -- cards -----------------------------------------------------------------------------

    async def create_card(self, list_id: str, **params: Any) -> dict[str, Any]:
        """``POST /cards``; params: ``name``, ``desc``, ``pos``, ``due``, ``start``,
        ``dueComplete``…"""
        return await self._post("/cards", idList=list_id, **params)

    async def get_card(
        self, id: str, *, fields: str | None = None, **nested: Any
    ) -> dict[str, Any]:
        """One card; ``nested`` as for ``get_board_cards``."""
        return await self._get(f"/cards/{segment(id)}", fields=fields, **nested)

    async def update_card(self, id: str, **params: Any) -> dict[str, Any]:
        """``PUT /cards/{id}``; ``idList`` moves it to a list, ``idBoard`` (with the
        ``idList`` of a list there) to another board."""
        return await self._put(f"/cards/{segment(id)}", **params)

    async def delete_card(self, id: str) -> None:
        await self._delete(f"/cards/{segment(id)}")

    # -- comments and actions --------------------------------------------------------------

    async def add_comment(self, card_id: str, text: str) -> dict[str, Any]:
        """Comment on a card; returns the ``commentCard`` action."""
        return await self._post(f"/cards/{segment(card_id)}/actions/comments", text=text)

    async def edit_comment(self, action_id: str, text: str) -> dict[str, Any]:
        return await self._put(f"/actions/{segment(action_id)}", text=text)

    async def delete_comment(self, action_id: str) -> None:
        await self._delete(f"/actions/{segment(action_id)}")

    async def get_action(self, id: str, *, fields: str | None = None) -> dict[str, Any]:
        return await self._get(f"/actions/{segment(id)}", fields=fields)

    # -- batch -----------------------------------------------------------------------------

    async def batch(self, urls: Sequence[str]) -> list[BatchItem]:
        """Many GETs in ``/batch`` calls of at most 10 routes each; answers in url order.

        Build each route with ``batch_url``.
        """
        groups = [list(urls[i : i + BATCH_SIZE]) for i in range(0, len(urls), BATCH_SIZE)]
        answers = await run_all(self._batch_group(group) for group in groups)
        return [item for answer in answers for item in answer]

    async def _batch_group(self, urls: list[str]) -> list[BatchItem]:
        answer = await self.request("GET", "/batch", {"urls": ",".join(urls)})
        if not isinstance(answer, list) or len(answer) != len(urls):
            raise failures.bad_answer(
                "GET /batch", f"expected a list of {len(urls)} answers, got {_shape(answer)}"
            )
        items = []
        for url, element in zip(urls, answer, strict=True):
            if not isinstance(element, dict) or len(element) != 1:
                raise failures.bad_answer(
                    "GET /batch", f"expected {{status: body}}, got {_shape(element)}"
                )
            ((status, body),) = element.items()
            try:
                code = int(status)
            except ValueError:
                raise failures.bad_answer("GET /batch", f"status {status!r}") from None
            items.append(BatchItem(url, code, body))
        return items

    # -- webhooks --------------------------------------------------------------------------

    async def create_webhook(
        self,
        callback_url: str,
        id_model: str,
        *,
        description: str | None = None,
        active: bool | None = None,
    ) -> dict[str, Any]:
        """Register a webhook; Trello first checks the callback answers HEAD with 200."""
        params: dict[str, Any] = {"callbackURL": callback_url, "idModel": id_model}
        if description is not None:
            params["description"] = description
        if active is not None:
            params["active"] = active
        return await self._post("/webhooks/", **params)

    async def delete_webhook(self, id: str) -> None:
        await self._delete(f"/webhooks/{segment(id)}")


def _check_credential(what: str, variable: str, value: str) -> None:
    # The value itself is never echoed: it is a secret.
    if not value or not value.strip():
        raise ConfigError(f"the Trello {what} is empty: set {variable}")
    if any(ch in value for ch in '"\\\r\n') or not value.isprintable():
        raise ConfigError(
            f"the Trello {what} contains quotes, backslashes or control characters: check "
            f"{variable} (copy it again without surrounding quotes or spaces)"
        )


def _present(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the ones left at ``None`` (Trello's default applies)."""
    return {name: value for name, value in params.items() if value is not None}


def _json(response: httpx.Response, name: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise failures.bad_answer(name, "the body is not JSON") from None


def _object(answer: Any, request: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise failures.bad_answer(request, f"expected a JSON object, got {_shape(answer)}")
    return answer


def _objects(answer: Any, request: str) -> list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise failures.bad_answer(request, f"expected a list of JSON objects, got {_shape(answer)}")
    return answer


def _shape(value: Any) -> str:
    return type(value).__name__
