"""Clients of the reference Custompms started by ``tests.fixtures.custompms``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem, RetryPolicy

# Short waits so retried faults stay fast; enough tries that seeded fault runs succeed.
FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.005, max_wait=0.02, jitter=0.005)


@pytest.fixture
async def client(
    custompms_server: ServerThread, custompms_token: str
) -> AsyncIterator[CustompmsClient]:
    async with CustompmsClient(custompms_server.url, custompms_token, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture
def system(client: CustompmsClient) -> CustompmsSystem:
    return CustompmsSystem(client, page_size=2)


@pytest.fixture
async def project_id(client: CustompmsClient) -> str:
    customer = await client.create("customers", {"name": "Acme"}, "customer-acme")
    project = await client.create(
        "projects", {"name": "Website", "customer_id": customer["id"]}, "project-website"
    )
    return str(project["id"])
