"""CSRF protection: every action form carries its session's token, checked on POST.

The token lives in the server-side session, is written into each form as the hidden field
``csrf_token``, and is compared in constant time. (The session cookie is also
``SameSite=Strict``; the token is the check that does not depend on the browser.)
"""

from __future__ import annotations

import hmac

from pmbridge.serve.ui.access import Session

FIELD = "csrf_token"


class CsrfError(Exception):
    """A POST without its session's CSRF token."""


def check_csrf(session: Session, sent: object) -> None:
    """Raise ``CsrfError`` unless ``sent`` is the session's token."""
    if not isinstance(sent, str) or not sent:
        raise CsrfError("the form carries no CSRF token: reload the page and try again")
    if not hmac.compare_digest(session.csrf_token.encode(), sent.encode()):
        raise CsrfError("the form's CSRF token is not this session's: reload the page")
