"""CustompmsClient against the reference Custompms over HTTP: every operation and error."""

from __future__ import annotations

import httpx
import pytest

from pmbridge.errors import (
    AuthenticationError,
    ConfigError,
    InvalidValueError,
    NotFoundError,
    StaleVersionError,
)
from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.systems.custompms import CustompmsClient, GoneError
from tests.systems_custompms.conftest import CUSTOMPMS_ROOT


async def test_feed_pages_through_every_change_in_order(client: CustompmsClient) -> None:
    made = [await client.create("customers", {"name": f"C{n}"}, f"c-{n}") for n in range(5)]

    first = await client.feed("customers", None, 2)
    pages = [first]
    while pages[-1].has_more:
        pages.append(await client.feed("customers", pages[-1].next_since, 2))

    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    assert [i["id"] for p in pages for i in p.items] == [c["id"] for c in made]
    end = await client.feed("customers", pages[-1].next_since, 2)
    assert end.items == [] and end.next_since == pages[-1].next_since and not end.has_more


async def test_feed_carries_tombstones_and_the_latest_state(client: CustompmsClient) -> None:
    a = await client.create("customers", {"name": "A"}, "a")
    b = await client.create("customers", {"name": "B"}, "b")
    start = (await client.feed("customers")).next_since
    await client.update("customers", a["id"], {"name": "A2"}, if_match=a["version"])
    await client.delete("customers", b["id"])

    items = (await client.feed("customers", start, 10)).items

    assert [(i["id"], i["deleted"]) for i in items] == [(a["id"], False), (b["id"], True)]
    assert items[0]["name"] == "A2" and items[0]["version"] == a["version"] + 1
    assert items[1]["version"] == b["version"] + 1


async def test_get_answers_the_stored_record(client: CustompmsClient, project_id: str) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "Plan"}, "t1")

    assert await client.get("tasks", task["id"]) == task


async def test_get_of_unknown_and_deleted_records(client: CustompmsClient) -> None:
    customer = await client.create("customers", {"name": "Gone soon"}, "gone")
    await client.delete("customers", customer["id"])

    with pytest.raises(NotFoundError) as unknown:
        await client.get("customers", "no-such-id")
    with pytest.raises(GoneError) as gone:
        await client.get("customers", customer["id"])

    assert unknown.value.status == 404 and not isinstance(unknown.value, GoneError)
    assert unknown.value.system == "custompms"
    assert "Custompms has no customer no-such-id" in str(unknown.value)
    assert gone.value.status == 410
    assert gone.value.current_version == str(customer["version"] + 1)
    assert "deleted" in str(gone.value)


async def test_create_repeated_with_one_key_makes_one_record(
    client: CustompmsClient, project_id: str
) -> None:
    body = {"project_id": project_id, "title": "Write spec"}
    first = await client.create("tasks", body, "key-1")
    again = await client.create("tasks", body, "key-1")

    assert again["id"] == first["id"]
    items = (await client.feed("tasks", None, 100)).items
    assert [i["id"] for i in items] == [first["id"]]


async def test_create_with_a_used_key_of_a_deleted_record_names_it(
    client: CustompmsClient,
) -> None:
    first = await client.create("customers", {"name": "X"}, "key-x")
    await client.delete("customers", first["id"])

    with pytest.raises(GoneError) as gone:
        await client.create("customers", {"name": "X"}, "key-x")

    assert gone.value.id == first["id"]


async def test_update_with_the_current_version(client: CustompmsClient, project_id: str) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "A"}, "t")

    updated = await client.update("tasks", task["id"], {"status": "in_progress"}, if_match=1)
    unconditional = await client.update("tasks", task["id"], {"completed": True})
    by_etag = await client.update("tasks", task["id"], {"position": 4}, if_match='W/"3"')

    assert (updated["status"], updated["version"]) == ("in_progress", 2)
    assert (unconditional["completed"], unconditional["version"]) == (True, 3)
    assert (by_etag["position"], by_etag["version"]) == (4, 4)


async def test_stale_if_match_raises_with_the_current_version(
    client: CustompmsClient, project_id: str
) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "A"}, "t")
    await client.update("tasks", task["id"], {"status": "in_progress"}, if_match=task["version"])

    with pytest.raises(StaleVersionError) as stale:
        await client.update("tasks", task["id"], {"status": "done"}, if_match=task["version"])

    assert stale.value.current_version == "2" and stale.value.status == 412
    assert "re-read it and merge" in str(stale.value)
    assert (await client.get("tasks", task["id"]))["status"] == "in_progress"


async def test_invalid_value_names_the_field(client: CustompmsClient, project_id: str) -> None:
    with pytest.raises(InvalidValueError) as invalid:
        await client.create("tasks", {"project_id": project_id, "title": ""}, "bad")

    assert invalid.value.field == "title" and invalid.value.status == 422
    assert "Custompms rejected POST /tasks" in str(invalid.value)
    assert "title:" in str(invalid.value)
    assert (await client.feed("tasks")).items == []


async def test_wrong_token_says_what_to_do(http: httpx.AsyncClient) -> None:
    async with CustompmsClient(CUSTOMPMS_ROOT, "not-the-token", http=http) as wrong:
        with pytest.raises(AuthenticationError) as refused:
            await wrong.feed("customers")

    assert str(refused.value) == ("Custompms rejected the token: check PMBRIDGE_CUSTOMPMS_TOKEN")
    assert refused.value.status == 401 and refused.value.system == "custompms"


async def test_delete_then_restore_with_changes(client: CustompmsClient, project_id: str) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "A"}, "t")

    await client.delete("tasks", task["id"])
    await client.delete("tasks", task["id"])  # deleting a deleted record is fine
    restored = await client.restore("tasks", task["id"], {"status": "done"}, if_match=2)

    assert restored["deleted"] is False and restored["status"] == "done"
    assert restored["version"] == 3
    assert (await client.get("tasks", task["id"]))["version"] == 3


async def test_changing_a_deleted_record_without_restoring_is_gone(
    client: CustompmsClient,
) -> None:
    customer = await client.create("customers", {"name": "A"}, "a")
    await client.delete("customers", customer["id"])

    with pytest.raises(GoneError):
        await client.update("customers", customer["id"], {"name": "B"})


async def test_delete_of_an_unknown_record(client: CustompmsClient) -> None:
    with pytest.raises(NotFoundError):
        await client.delete("tasks", "no-such-task")


async def test_a_page_of_the_feed_is_one_request(
    client: CustompmsClient, custompms_app: CustompmsApp
) -> None:
    custompms_app.stats.reset()

    await client.feed("tasks", None, 1000)

    assert custompms_app.stats.snapshot()["by_route"] == {"GET /tasks": 1}


@pytest.mark.parametrize(
    ("url", "token", "expected"),
    [
        ("127.0.0.1:8765", "t", r"not an http\(s\) URL"),
        ("ftp://127.0.0.1", "t", r"not an http\(s\) URL"),
        ("http://127.0.0.1:8765", "", "set PMBRIDGE_CUSTOMPMS_TOKEN"),
    ],
)
def test_bad_settings_are_refused_clearly(url: str, token: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        CustompmsClient(url, token)


async def test_wrong_arguments_are_refused_before_sending(client: CustompmsClient) -> None:
    with pytest.raises(ValueError, match="unknown Custompms resource 'task'"):
        await client.feed("task")
    with pytest.raises(ValueError, match="between 1 and 1000"):
        await client.feed("tasks", None, 5000)
    with pytest.raises(ValueError, match="Idempotency-Key"):
        await client.create("tasks", {}, "has space")
    with pytest.raises(ValueError, match="not a Custompms record version"):
        await client.update("tasks", "x", {"title": "A"}, if_match="v3")
    with pytest.raises(InvalidValueError, match="finite"):
        await client.update("tasks", "x", {"position": float("nan")})
