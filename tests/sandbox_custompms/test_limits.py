"""Request bodies over 1 MiB are refused before they are read (413), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

MIB = 1024 * 1024


def _body_of(size: int) -> bytes:
    """A valid task create of ``size`` bytes (the description fills it)."""
    head = b'{"project_id": "p", "title": "T", "description": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def _chunks(body: bytes, sent: list[int]) -> Iterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        chunk = body[start : start + 64 * 1024]
        sent.append(len(chunk))
        yield chunk


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:custompms:problem:too-large"
    assert "over 1,048,576 bytes" in problem["detail"]


def test_a_declared_length_over_1_mib_is_refused_without_reading(
    custompms_server: ServerThread, api: Api
) -> None:
    for method, path in [("POST", "/tasks"), ("PATCH", "/tasks/x"), ("POST", "/ui/tasks/x")]:
        response = api.http.request(method, path, content=_body_of(MIB + 1))
        _assert_too_large(response)
    assert api.feed("tasks")["items"] == []


def test_a_streamed_body_is_refused_once_it_passes_1_mib(
    custompms_server: ServerThread, api: Api
) -> None:
    sent: list[int] = []
    try:
        response = api.http.post(
            "/tasks",
            content=_chunks(_body_of(4 * MIB), sent),
            headers={"Content-Type": "application/json"},
        )
    except httpx.TransportError:  # the server may close the connection while we still send
        pytest.fail("the server dropped the connection instead of answering 413")
    _assert_too_large(response)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert api.feed("tasks")["items"] == []


def test_a_body_of_exactly_1_mib_is_read(api: Api) -> None:
    body = _body_of(MIB)
    assert len(body) == MIB

    response = api.http.post("/tasks", content=body, headers={"Content-Type": "application/json"})

    # Read and parsed: refused for what it says (a description too long), not for its size.
    assert response.status_code == 422
    assert "description" in {error["field"] for error in response.json()["errors"]}
