"""The ``X-Trello-Webhook`` signature: base64(HMAC-SHA1(app secret, raw body + callbackURL)),
from ``pmbridge.signatures`` (the one module both the sandbox and ``pmbridge serve`` use)."""

from __future__ import annotations

from pmbridge.signatures import TRELLO_SIGNATURE_HEADER as SIGNATURE_HEADER
from pmbridge.signatures import trello_signature as sign
from pmbridge.signatures import verify_trello_signature

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]


def verify(secret: str, body: bytes, callback_url: str, signature: str) -> bool:
    """Whether ``signature`` signs the raw ``body`` for ``callback_url`` (constant time)."""
    return verify_trello_signature(secret, body, callback_url, signature)
