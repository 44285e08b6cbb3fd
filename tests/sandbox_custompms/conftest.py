"""Helpers for the reference Custompms tests: an authenticated client and record factories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread


class Api:
    """A small synchronous client of the reference Custompms for tests."""

    def __init__(self, url: str, token: str):
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def create(self, resource: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post(f"/{resource}", json=fields)
        assert response.status_code == 201, response.text
        return response.json()

    def customer(self, **fields: Any) -> dict[str, Any]:
        return self.create("customers", **{"name": "Acme", **fields})

    def project(self, **fields: Any) -> dict[str, Any]:
        if "customer_id" not in fields:
            fields["customer_id"] = self.customer()["id"]
        return self.create("projects", **{"name": "Website", **fields})

    def task(self, **fields: Any) -> dict[str, Any]:
        if "project_id" not in fields:
            fields["project_id"] = self.project()["id"]
        return self.create("tasks", **{"title": "Write copy", **fields})

    def feed(self, resource: str, since: str | None = None, limit: int = 1000) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        response = self.http.get(f"/{resource}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def api(custompms_server: ServerThread, custompms_token: str) -> Iterator[Api]:
    client = Api(custompms_server.url, custompms_token)
    yield client
    client.close()
