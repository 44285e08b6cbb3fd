"""Webhook signatures (``pmbridge.signatures``) against values computed independently.

The expected values were made with ``openssl dgst -hmac`` (see each test), so a mistake
shared by the receiver and the sandboxes, which all use this module, would still show here.
"""

from __future__ import annotations

from pmbridge.signatures import (
    custompms_signature,
    trello_signature,
    verify_custompms_signature,
    verify_trello_signature,
)

BODY = b'body-bytes{"a":1}'
CALLBACK = "https://sync.example.com/hooks/trello"


def test_trello_signs_body_and_callback_url_with_hmac_sha1_in_base64() -> None:
    # printf '%s%s' BODY CALLBACK | openssl dgst -sha1 -hmac app-secret -binary | base64
    expected = "0/HBCvN0TNsVrdzAeDEDo9Pq0BI="
    assert trello_signature("app-secret", BODY, CALLBACK) == expected
    assert verify_trello_signature("app-secret", BODY, CALLBACK, expected)
    assert verify_trello_signature("app-secret", BODY, CALLBACK, f" {expected}\n")
    assert not verify_trello_signature("other-secret", BODY, CALLBACK, expected)
    assert not verify_trello_signature("app-secret", BODY + b" ", CALLBACK, expected)
    assert not verify_trello_signature("app-secret", BODY, CALLBACK + "/", expected)
    assert not verify_trello_signature("app-secret", BODY, CALLBACK, None)
    assert not verify_trello_signature("app-secret", BODY, CALLBACK, "")


def test_custompms_signs_the_body_with_hmac_sha256_in_hex() -> None:
    # printf '{"a":1}' | openssl dgst -sha256 -hmac pms-secret
    expected = "sha256=c66b0c11cef395f0a5cfb16e00450885ccaa5c722dc92a87b9dba683e62ce766"
    assert custompms_signature("pms-secret", b'{"a":1}') == expected
    assert verify_custompms_signature("pms-secret", b'{"a":1}', expected)
    assert not verify_custompms_signature("other", b'{"a":1}', expected)
    assert not verify_custompms_signature("pms-secret", b'{"a":2}', expected)
    assert not verify_custompms_signature("pms-secret", b'{"a":1}', expected[7:])  # no prefix
    assert not verify_custompms_signature("pms-secret", b'{"a":1}', None)
