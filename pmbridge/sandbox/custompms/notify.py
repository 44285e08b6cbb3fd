"""Change notifications: a signed POST to every subscription after each committed change.

Deliveries run on a small thread pool, off the request path, so a slow or dead receiver
never slows the API. Each body is signed with the subscription's secret
(``pmbridge.signatures``): ``X-Custompms-Signature: sha256=<hex HMAC-SHA256(secret, raw
body)>``. A delivery that fails (no answer, or not 2xx) is retried a few times with backoff,
then dropped: notifications are hints, the change feed is the truth.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from pmbridge.signatures import CUSTOMPMS_SIGNATURE_HEADER as SIGNATURE_HEADER
from pmbridge.signatures import custompms_signature as sign
from pmbridge.signatures import verify_custompms_signature as verify

__all__ = ["SIGNATURE_HEADER", "Notifier", "sign", "verify"]

log = logging.getLogger(__name__)


class Notifier:
    """Sends notifications in the background.

    :param targets: returns (url, secret) of every current subscription
    :param attempts: tries per delivery
    :param timeout: seconds per try
    """

    def __init__(
        self,
        targets: Callable[[], list[tuple[str, str]]],
        *,
        attempts: int = 4,
        timeout: float = 5.0,
        backoff: float = 0.2,
    ):
        self._targets = targets
        self._timeout = timeout
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._deliver = retry(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff, max=5),
            retry=retry_if_exception_type(httpx.HTTPError),
            reraise=True,
        )(self._post)

    def changed(self, resource: str, record_id: str, version: int, deleted: bool) -> None:
        """Queue a notification of one committed change; returns at once."""
        body = json.dumps(
            {"resource": resource, "id": record_id, "version": version, "deleted": deleted}
        ).encode()
        self._start().submit(self._fan_out, body)

    def _start(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=4, thread_name_prefix="custompms-notify"
                )
                self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
            return self._pool

    def _fan_out(self, body: bytes) -> None:
        # Runs on the pool: reading the subscriptions never delays the request.
        pool = self._pool
        for url, secret in self._targets():
            if pool is None:
                return
            try:
                pool.submit(self._send, url, secret, body)
            except RuntimeError:  # closed meanwhile
                return

    def _send(self, url: str, secret: str, body: bytes) -> None:
        try:
            self._deliver(url, secret, body)
        except (httpx.HTTPError, RuntimeError) as err:
            # Never log the URL's query (it may carry a receiver's token) or the secret.
            log.warning("notification to %s dropped: %s", httpx.URL(url).host, type(err).__name__)

    def _post(self, url: str, secret: str, body: bytes) -> None:
        client = self._client
        if client is None:  # closed meanwhile
            return
        response = client.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)},
        )
        response.raise_for_status()

    def close(self) -> None:
        """Drop pending deliveries and release connections (a later change starts afresh)."""
        with self._lock:
            pool, client = self._pool, self._client
            self._pool = self._client = None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if client is not None:
            client.close()
