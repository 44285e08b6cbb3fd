"""The ``X-Trello-Webhook`` signature: base64(HMAC-SHA1(app secret, raw body + callbackURL))."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Trello-Webhook"


def sign(secret: str, body: bytes, callback_url: str) -> str:
    """The ``X-Trello-Webhook`` value: base64(HMAC-SHA1(secret, body + callbackURL))."""
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, callback_url: str, signature: str) -> bool:
    """Whether ``signature`` signs the raw ``body`` for ``callback_url`` (constant time)."""
    return hmac.compare_digest(sign(secret, body, callback_url).encode(), signature.encode())
