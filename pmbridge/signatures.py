"""Webhook signatures: how Trello and Custompms sign a delivery, and checking one.

Trello's ``X-Trello-Webhook`` is base64(HMAC-SHA1(app secret, raw body + callback URL));
Custompms' ``X-Custompms-Signature`` is ``sha256=<hex HMAC-SHA256(secret, raw body)>``. The
checks compare in constant time.

One module for both ends: the receiver of ``pmbridge serve`` verifies with it and the
sandboxes sign with it. It imports nothing from pmbridge, so the sandboxes (which import
nothing from the engine or the connectors) may use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TRELLO_SIGNATURE_HEADER = "X-Trello-Webhook"
CUSTOMPMS_SIGNATURE_HEADER = "X-Custompms-Signature"


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    """The ``X-Trello-Webhook`` value of ``body`` delivered to ``callback_url``."""
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_trello_signature(
    secret: str, body: bytes, callback_url: str, signature: str | None
) -> bool:
    """Whether ``signature`` signs the raw ``body`` for ``callback_url``."""
    if not signature:
        return False
    expected = trello_signature(secret, body, callback_url).encode()
    return hmac.compare_digest(expected, signature.strip().encode())


def custompms_signature(secret: str, body: bytes) -> str:
    """The ``X-Custompms-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_custompms_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (the header value) signs the raw ``body``."""
    if not signature:
        return False
    expected = custompms_signature(secret, body).encode()
    return hmac.compare_digest(expected, signature.strip().encode())
