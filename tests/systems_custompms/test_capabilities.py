"""The connector reads ``GET /capabilities`` once, takes a 404 for contract 1.0, and never
sends a task property the server lacks (the reference server refuses unknown ones)."""

from __future__ import annotations

from typing import Any

import pytest

from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem
from pmbridge.systems.custompms.values import OPTIONAL

PARTS: dict[str, Any] = {
    "tags": ("web",),
    "assignees": (),
    "checklist": ({"id": None, "text": "Draft", "done": False},),
    "links": ({"id": None, "title": "Spec", "url": "https://example.com/spec"},),
}


def capability_calls(app: CustompmsApp) -> int:
    return int(app.stats.snapshot()["by_route"].get("GET /capabilities", 0))


@pytest.mark.parametrize("custompms_features", [()])
async def test_a_404_at_capabilities_is_contract_1_0_read_once(
    system: CustompmsSystem, client: CustompmsClient, custompms_app: CustompmsApp
) -> None:
    custompms_app.stats.reset()

    assert await system.unsupported("customer") == frozenset()
    assert capability_calls(custompms_app) == 0  # no question about tasks yet
    assert await client.capabilities() is None
    custompms_app.stats.reset()
    assert await system.unsupported("task") == OPTIONAL
    assert await system.unsupported("task") == OPTIONAL

    assert capability_calls(custompms_app) == 1


@pytest.mark.parametrize("custompms_features", [()])
async def test_a_1_0_server_is_never_sent_the_optional_properties(
    system: CustompmsSystem, custompms_app: CustompmsApp, project_id: str
) -> None:
    made = await system.create(
        "task", {"project_id": project_id, "title": "A", **PARTS}, idempotency_key="k"
    )
    assert made.fields["title"] == "A"
    assert not OPTIONAL & made.fields.keys()

    updated = await system.update(
        "task", made.id, {"title": "B", "tags": ("ops",)}, version=made.version
    )
    assert updated.fields["title"] == "B" and updated.version == "2"

    custompms_app.stats.reset()
    unchanged = await system.update("task", made.id, {"tags": ("x",)}, version=updated.version)
    # Nothing the server has was left to send: the record is read, not written.
    assert custompms_app.stats.snapshot()["by_route"] == {"GET /tasks/{id}": 1}
    assert unchanged.version == "2"


@pytest.mark.parametrize("custompms_features", [("tags", "links")])
async def test_a_server_with_some_parts_gets_those_only(
    system: CustompmsSystem, client: CustompmsClient, project_id: str
) -> None:
    assert await system.unsupported("task") == {"assignees", "checklist"}

    made = await system.create(
        "task", {"project_id": project_id, "title": "A", **PARTS}, idempotency_key="k"
    )

    stored = await client.get("tasks", made.id)
    assert stored["tags"] == ["web"]
    assert [(x["title"], x["url"]) for x in stored["links"]] == [
        ("Spec", "https://example.com/spec")
    ]
    assert "checklist" not in stored and "assignees" not in stored


async def test_a_server_with_every_part_lacks_none(
    system: CustompmsSystem, client: CustompmsClient, project_id: str
) -> None:
    assert await system.unsupported("task") == frozenset()
    made = await system.create(
        "task", {"project_id": project_id, "title": "A", **PARTS}, idempotency_key="k"
    )
    assert (await client.get("tasks", made.id))["checklist"][0]["text"] == "Draft"
