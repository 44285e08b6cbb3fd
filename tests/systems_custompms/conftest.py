"""Clients of the reference Custompms (``tests.fixtures.custompms``), its app in process
(``tests.fixtures.inprocess``: the same app and fault knobs, no socket). ``http`` sends
requests to ``CUSTOMPMS_ROOT`` into the app and any other URL over the network."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem, RetryPolicy
from tests.fixtures.inprocess import InProcess, in_process

# Short waits so retried faults stay fast; enough tries that seeded fault runs succeed.
FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.005, max_wait=0.02, jitter=0.005)


CUSTOMPMS_ROOT = "http://custompms.sandbox"


@pytest.fixture
async def custompms_transport(custompms_app: CustompmsApp) -> AsyncIterator[InProcess]:
    """A transport into the test's reference Custompms, started for the test."""
    async with in_process(custompms_app) as transport:
        yield transport


@pytest.fixture
async def http(custompms_transport: InProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(mounts={CUSTOMPMS_ROOT: custompms_transport}) as client:
        yield client


@pytest.fixture
async def client(http: httpx.AsyncClient, custompms_token: str) -> AsyncIterator[CustompmsClient]:
    async with CustompmsClient(CUSTOMPMS_ROOT, custompms_token, http=http, retry=FAST_RETRY) as c:
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
