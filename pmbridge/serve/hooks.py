"""Registering where deliveries go: a Trello webhook per linked board, a Custompms
subscription; and the public URL they point at.

Everything registered is recorded in the state store (``Store.add_registration``) under the
serve process that made it, and forgotten once deleted, so a serve that died leaves a list
a later one works through (``remove_leftovers``). A serve is alive while its lease
``serve <owner>`` is (``SERVE_LEASE_PREFIX``); what it registered is not touched meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from pmbridge.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    RemoteSystemError,
    UnavailableError,
)
from pmbridge.store import Registration, Store
from pmbridge.systems.custompms.problems import error_for
from pmbridge.systems.trello import TrelloClient

log = logging.getLogger("pmbridge.serve")

WEBHOOK_DESCRIPTION = "pmbridge serve"
SERVE_LEASE_PREFIX = "serve "


def public_url_of(text: str) -> str:
    """``text`` checked as the public base URL of the receiver, without a trailing slash.

    The receiver serves ``/hooks/...`` at its root: a proxy in front of a public URL with a
    path (``https://example.com/pmbridge``) must strip that path.
    """
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"the public URL {text!r} is not an http(s) URL with a host, e.g. "
            "https://pmbridge.example.com (Trello and Custompms must reach it)"
        )
    if url.query or url.fragment or url.userinfo:
        raise ConfigError(
            "the public URL must not have a query, a fragment or a user name/password: "
            "pmbridge adds /hooks/trello and /hooks/custompms to it"
        )
    return str(url).rstrip("/")


# --- what points at the receiver ----------------------------------------------------------


class BoardWebhooks:
    """The Trello webhooks of this run: one per linked board, all at one callback URL.

    Trello cannot list a token's webhooks without the token in the URL, so the ids are kept
    in the store (``store``; tests may leave it out). A board whose webhook already exists
    without a record (made by a pmbridge that kept none) counts as registered, without an
    id to delete.
    """

    def __init__(self, client: TrelloClient, callback_url: str, store: Store | None = None):
        self.client = client
        self.callback_url = callback_url
        self.store = store
        self.ids: dict[str, str | None] = {}  # board id → webhook id (None: made earlier)
        self.refused: dict[str, str] = {}  # board id → why Trello refused it for good
        self._records: dict[str, int] = {}  # board id → its registration in the store

    async def track(self, boards: set[str], warn: Callable[[str], None]) -> None:
        """Register webhooks for new ``boards`` and delete those of boards no longer given.

        Raises ``AuthenticationError``; other failures are passed to ``warn`` and the board
        is tried again next time (unless Trello refused the board itself).
        """
        for board in sorted(boards - self.ids.keys() - self.refused.keys()):
            try:
                hook = await self.client.create_webhook(
                    self.callback_url, board, description=WEBHOOK_DESCRIPTION
                )
            except AuthenticationError:
                raise
            except RemoteSystemError as err:
                if err.status == 400 and "already exists" in str(err):
                    self.ids[board] = None
                    continue
                if getattr(err, "retryable", False):
                    warn(f"no Trello webhook for board {board} yet, tried again later: {err}")
                    break  # Trello is unwell: the other boards can wait as well
                if "did not return 200" in str(err):
                    warn(
                        f"Trello cannot reach {self.callback_url} ({err}): check that the "
                        "public URL leads to this receiver; tried again after each cycle"
                    )
                    continue
                self.refused[board] = str(err)
                warn(
                    f"Trello refused a webhook for board {board}, so its changes wait for "
                    f"the periodic cycle: {err}"
                )
                continue
            self.ids[board] = str(hook["id"])
            if self.store is not None:
                record = self.store.add_registration(
                    "trello", str(hook["id"]), self.callback_url, board
                )
                self._records[board] = record.id
            log.info("Trello webhook %s registered for board %s", hook["id"], board)
        for board in sorted(self.ids.keys() - boards):
            await self._delete(board, warn)

    async def remove_all(self, warn: Callable[[str], None]) -> int:
        """Delete every webhook this run made; return how many were deleted."""
        made = [board for board, hook in self.ids.items() if hook is not None]
        deleted = 0
        for board in made:
            deleted += await self._delete(board, warn)
        return deleted

    async def _delete(self, board: str, warn: Callable[[str], None]) -> bool:
        hook = self.ids.pop(board)
        record = self._records.pop(board, None)
        if hook is None:
            return False
        try:
            await self.client.delete_webhook(hook)
        except NotFoundError:
            deleted = False  # Trello deletes the webhooks of deleted boards by itself
        except RemoteSystemError as err:
            # Kept in the store: the next serve deletes it.
            warn(f"could not delete Trello webhook {hook} of board {board}: {err}")
            return False
        else:
            deleted = True
        if record is not None and self.store is not None:
            self.store.delete_registration(record)
        return deleted


class CustompmsSubscription:
    """A Custompms subscription (``POST /subscriptions``) made for this run.

    :param base_url: the Custompms API root
    :param token: its bearer token (sent only in the Authorization header)
    :param store: where the subscription is recorded while it exists
    """

    def __init__(
        self, base_url: str, token: str, *, http: httpx.AsyncClient, store: Store | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.host = httpx.URL(base_url).host
        self._token = token
        self._http = http
        self.store = store
        self.id: str | None = None
        self._record: int | None = None

    async def subscribe(self, url: str, secret: str) -> str:
        """Register ``url`` for notifications signed with ``secret``; return the id."""
        body = await self._request("POST", "/subscriptions", {"url": url, "secret": secret})
        if not isinstance(body, dict) or body.get("id") in (None, ""):
            raise RemoteSystemError(
                f"Custompms at {self.host} answered POST /subscriptions without an id: check "
                "that the Custompms URL is the API root",
                system="custompms",
            )
        self.id = str(body["id"])
        if self.store is not None:
            self._record = self.store.add_registration("custompms", self.id, url).id
        return self.id

    async def unsubscribe(self) -> bool:
        """Remove the subscription; False when there was none (or it was gone already)."""
        if self.id is None:
            return False
        subscription, self.id = self.id, None
        record, self._record = self._record, None
        removed = await self.remove(subscription)
        if record is not None and self.store is not None:
            self.store.delete_registration(record)
        return removed

    async def remove(self, subscription: str) -> bool:
        """Delete subscription ``subscription``; False when it was gone already."""
        path = f"/subscriptions/{quote(subscription, safe='')}"
        try:
            await self._request("DELETE", path)
        except NotFoundError:
            return False
        return True

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        action = f"{method} /subscriptions" + ("/{id}" if path.count("/") > 1 else "")
        try:
            response = await self._http.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            )
        except httpx.TransportError as err:
            raise UnavailableError(
                f"Could not reach Custompms at {self.host} for {action} ({type(err).__name__}): "
                "check that it is running and that the Custompms URL is right",
                system="custompms",
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise UnavailableError(
                f"Custompms at {self.host} answered {response.status_code} to {action}",
                system="custompms",
                status=response.status_code,
            )
        if not response.is_success:
            raise error_for(response, action=action, what="subscription", token=self._token)
        try:
            return response.json() if response.content else None
        except ValueError:
            raise RemoteSystemError(
                f"Custompms at {self.host} answered {action} with something that is not JSON: "
                "check that the Custompms URL is the API root",
                system="custompms",
            ) from None


# --- what an earlier serve left --------------------------------------------------------------


async def remove_leftovers(
    store: Store,
    trello: TrelloClient,
    subscription: CustompmsSubscription,
    warn: Callable[[str], None],
) -> list[Registration]:
    """Delete the webhooks and subscriptions of serve processes that are gone (killed, or
    stopped before they could clean up) and forget them; return what was removed. One that
    cannot be deleted now stays recorded, for the next try."""
    removed: list[Registration] = []
    for entry in store.orphaned_registrations(SERVE_LEASE_PREFIX):
        try:
            if entry.system == "trello":
                try:
                    await trello.delete_webhook(entry.remote_id)
                except NotFoundError:
                    pass
            else:
                await subscription.remove(entry.remote_id)
        except AuthenticationError:
            raise
        except RemoteSystemError as err:
            warn(
                f"could not delete the {entry.system} registration {entry.remote_id} an earlier "
                f"serve left (tried again at the next start): {err}"
            )
            continue
        store.delete_registration(entry.id)
        removed.append(entry)
    return removed
