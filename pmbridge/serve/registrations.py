"""What a running serve keeps registered, and its claim in the store.

A serve claims the lease ``serve <owner>`` (``SERVE_LEASE_PREFIX``) for its life and renews
it from a heartbeat, so a later serve can tell what it registered from what a serve that is
gone left (``remove_leftovers``, looked for after every cycle). With a public URL it
subscribes to Custompms once (tried again while Custompms is unwell; given up when refused)
and keeps a Trello webhook on every linked board (``BoardWebhooks``); stopping removes both.
Warnings about all this are logged once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from pmbridge.config import Settings
from pmbridge.errors import AuthenticationError, RemoteSystemError, StoreError
from pmbridge.serve.hooks import (
    SERVE_LEASE_PREFIX,
    BoardWebhooks,
    CustompmsSubscription,
    remove_leftovers,
)
from pmbridge.store import RUN_LEASE_S, Store
from pmbridge.systems.trello import TrelloClient

log = logging.getLogger("pmbridge.serve")


class Registrations:
    """This serve's Trello webhooks, Custompms subscription and lease.

    :param settings: the settings (Custompms' URL and token)
    :param store: the service's state store (the lease, the registrations' records)
    :param trello: the service's Trello client
    :param trello_callback_url: where Trello delivers; None (no public URL): nothing is
        registered, only the lease is held and leftovers removed
    :param custompms_callback_url: where Custompms notifies
    :param custompms_secret: the secret Custompms signs its notifications with
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        trello: TrelloClient,
        *,
        trello_callback_url: str | None = None,
        custompms_callback_url: str | None = None,
        custompms_secret: str = "",
    ):
        self.settings = settings
        self.store = store
        self.trello = trello
        self.trello_callback_url = trello_callback_url
        self.custompms_callback_url = custompms_callback_url
        self._custompms_secret = custompms_secret
        self.webhooks: BoardWebhooks | None = None
        self.subscription: CustompmsSubscription | None = None
        self._http: httpx.AsyncClient | None = None
        self._subscribe_refused = False
        self._warned: set[str] = set()
        self._lease: str | None = None  # this serve's lease in the store, while it runs
        self._keep_alive: asyncio.Task[None] | None = None

    # --- the claim -------------------------------------------------------------------------

    async def claim(self) -> None:
        """Say in the store that this serve is alive: a lease its heartbeat renews."""
        store = self.store
        name = self._lease = f"{SERVE_LEASE_PREFIX}{store.owner.key}"
        store.acquire_lease(name, lease_s=RUN_LEASE_S)

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(RUN_LEASE_S / 4)
                with contextlib.suppress(StoreError):
                    store.acquire_lease(name, lease_s=RUN_LEASE_S)

        self._keep_alive = asyncio.create_task(keep_alive(), name="pmbridge serve heartbeat")

    async def close(self) -> None:
        """Stop the heartbeat, release the lease and close the subscription's client."""
        if self._keep_alive is not None:
            self._keep_alive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keep_alive
        if self._lease is not None:
            with contextlib.suppress(StoreError):
                self.store.release_lease(self._lease)
        if self._http is not None:
            await self._http.aclose()

    async def clean_leftovers(self) -> None:
        """Delete what serve processes that are gone left registered (one that ran on another
        machine counts as gone once its lease expired: it is looked for after every cycle)."""
        removed = await remove_leftovers(
            self.store, self.trello, self._subscriptions(), self._warn_once
        )
        if removed:
            log.info(
                "removed what an earlier serve left: %s",
                ", ".join(f"{entry.system} {entry.remote_id}" for entry in removed),
            )

    # --- webhooks and the subscription -----------------------------------------------------

    async def register(self, boards: set[str]) -> None:
        """Subscribe to Custompms (once) and give every one of ``boards`` a webhook (and
        none to a board no longer given); raises ``AuthenticationError``."""
        if self.trello_callback_url is None or self.custompms_callback_url is None:
            return
        subscription = self._subscriptions()
        if subscription.id is None and not self._subscribe_refused:
            try:
                await subscription.subscribe(self.custompms_callback_url, self._custompms_secret)
                log.info("Custompms notifications go to %s", self.custompms_callback_url)
            except AuthenticationError:
                raise
            except RemoteSystemError as err:
                if getattr(err, "retryable", False):
                    self._warn_once(f"no Custompms subscription yet (tried again later): {err}")
                else:
                    # An optional part of the contract: the periodic cycle still finds changes.
                    self._subscribe_refused = True
                    log.warning(
                        "Custompms refused the subscription, so its changes wait for the "
                        "periodic cycle: %s",
                        err,
                    )
        if self.webhooks is None:
            self.webhooks = BoardWebhooks(self.trello, self.trello_callback_url, self.store)
        await self.webhooks.track(boards, self._warn_once)

    async def unregister(self) -> tuple[int, bool]:
        """Delete the webhooks and the subscription: (webhooks deleted, whether the
        subscription was removed). What cannot be deleted is left for the next serve."""
        removed = 0
        if self.webhooks is not None:
            removed = await self.webhooks.remove_all(log.warning)
        unsubscribed = False
        if self.subscription is not None:
            try:
                unsubscribed = await self.subscription.unsubscribe()
            except RemoteSystemError as err:
                log.warning("could not remove the Custompms subscription: %s", err)
        return removed, unsubscribed

    def _subscriptions(self) -> CustompmsSubscription:
        """The Custompms subscription client of this service (made on first use)."""
        if self.subscription is None:
            token = self.settings.custompms_token
            assert self.settings.custompms_url and token
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
            self.subscription = CustompmsSubscription(
                self.settings.custompms_url,
                token.get_secret_value(),
                http=self._http,
                store=self.store,
            )
        return self.subscription

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)
