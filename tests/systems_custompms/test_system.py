"""CustompmsSystem: the reference Custompms seen as records, over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pytest

from pmbridge.errors import AuthenticationError, InvalidValueError, StaleVersionError
from pmbridge.systems.base import System
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem
from pmbridge.systems.custompms.values import OPTIONAL, to_record
from tests.systems_custompms.conftest import CUSTOMPMS_ROOT


def test_it_is_a_system(system: CustompmsSystem) -> None:
    assert isinstance(system, System)
    assert system.name == "custompms"


async def test_read_normalises_every_kind(client: CustompmsClient, system: CustompmsSystem) -> None:
    customer = await client.create(
        "customers", {"name": "Acme", "website": "https://acme.example"}, "c"
    )
    project = await client.create("projects", {"name": "Web", "customer_id": customer["id"]}, "p")
    task = await client.create(
        "tasks",
        {
            "project_id": project["id"],
            "title": "Launch",
            "due_at": "2030-05-06",
            "start_at": "2030-05-01T10:30:00+02:00",
            "position": 3,
        },
        "t",
    )
    comment = await client.create(
        "comments", {"task_id": task["id"], "author": "Ann", "text": "Go!"}, "m"
    )

    customers = (await system.read("customer", None)).records
    projects = (await system.read("project", None)).records
    tasks = (await system.read("task", None)).records
    comments = (await system.read("comment", None)).records

    assert customers[0].fields == {
        "name": "Acme",
        "description": "",
        "website": "https://acme.example",
    }
    assert projects[0].fields == {
        "customer_id": customer["id"],
        "name": "Web",
        "description": "",
        "archived": False,
    }
    assert tasks[0].fields == {
        "project_id": project["id"],
        "title": "Launch",
        "description": "",
        "status": "todo",
        "due_at": date(2030, 5, 6),
        "start_at": datetime(2030, 5, 1, 8, 30, tzinfo=UTC),
        "completed": False,
        "archived": False,
        "position": 3.0,
        "tags": (),
        "assignees": (),
        "checklist": (),
        "links": (),
    }
    assert isinstance(tasks[0].fields["position"], float)
    assert comments[0].fields == {
        "task_id": task["id"],
        "project_id": None,
        "author": "Ann",
        "text": "Go!",
    }
    record = comments[0]
    assert (record.kind, record.id, record.version, record.deleted) == (
        "comment",
        comment["id"],
        "1",
        False,
    )
    assert record.updated_at is not None and record.updated_at.utcoffset() == timedelta(0)
    assert record.updated_at == datetime.fromisoformat(comment["updated_at"])


async def test_read_walks_every_page_and_reports_tombstones(
    client: CustompmsClient, system: CustompmsSystem
) -> None:
    ids = [(await client.create("customers", {"name": f"C{n}"}, f"c{n}"))["id"] for n in range(3)]
    await client.delete("customers", ids[0])

    everything = await system.read("customer", None)
    nothing = await system.read("customer", everything.cursor)

    # page_size is 2: the read took two pages, and the tombstone came last.
    assert [r.id for r in everything.records] == [ids[1], ids[2], ids[0]]
    tombstone = everything.records[-1]
    assert tombstone.deleted and tombstone.fields == {} and tombstone.version == "2"
    assert everything.complete and everything.listed is None
    assert nothing.records == [] and nothing.cursor == everything.cursor


async def test_get_is_none_for_unknown_and_deleted(system: CustompmsSystem) -> None:
    made = await system.create("customer", {"name": "A"}, idempotency_key="k")
    await system.delete("customer", made.id)

    assert await system.get("customer", "no-such-id") is None
    assert await system.get("customer", made.id) is None


async def test_create_is_idempotent_by_key(system: CustompmsSystem, project_id: str) -> None:
    fields = {"project_id": project_id, "title": "Once", "due_at": date(2030, 1, 2)}
    first = await system.create("task", fields, idempotency_key="intent-1")
    again = await system.create("task", fields, idempotency_key="intent-1")

    assert again == first
    assert first.fields["due_at"] == date(2030, 1, 2)
    assert [r.id for r in (await system.read("task", None)).records] == [first.id]


async def test_create_again_after_the_record_was_deleted_gives_its_tombstone(
    system: CustompmsSystem,
) -> None:
    made = await system.create("customer", {"name": "A"}, idempotency_key="k")
    await system.delete("customer", made.id)

    again = await system.create("customer", {"name": "A"}, idempotency_key="k")

    assert (again.id, again.deleted, again.version) == (made.id, True, "2")


async def test_update_sends_values_in_wire_format(
    client: CustompmsClient, system: CustompmsSystem, project_id: str
) -> None:
    made = await system.create(
        "task", {"project_id": project_id, "title": "A"}, idempotency_key="k"
    )
    due = datetime(2030, 5, 6, 9, 8, 7, 654321, tzinfo=timezone(timedelta(hours=2)))

    updated = await system.update(
        "task",
        made.id,
        {"due_at": due, "start_at": date(2030, 5, 1), "position": 2.5},
        version=made.version,
    )

    stored = await client.get("tasks", made.id)
    assert stored["due_at"].startswith("2030-05-06T07:08:07.654")
    assert stored["start_at"] == "2030-05-01"
    assert updated.fields["due_at"] == datetime(2030, 5, 6, 7, 8, 7, 654000, tzinfo=UTC)
    assert updated.fields["start_at"] == date(2030, 5, 1)
    assert updated.version == "2"


async def test_update_with_a_stale_version(system: CustompmsSystem) -> None:
    made = await system.create("customer", {"name": "A"}, idempotency_key="k")
    await system.update("customer", made.id, {"name": "B"}, version=made.version)

    with pytest.raises(StaleVersionError) as stale:
        await system.update("customer", made.id, {"name": "C"}, version=made.version)

    assert stale.value.current_version == "2"
    current = await system.get("customer", made.id)
    assert current is not None and current.fields["name"] == "B"


async def test_update_with_deleted_false_restores_and_applies(system: CustompmsSystem) -> None:
    made = await system.create("customer", {"name": "A"}, idempotency_key="k")
    await system.delete("customer", made.id)

    restored = await system.update(
        "customer", made.id, {"deleted": False, "name": "Back"}, version="2"
    )

    assert not restored.deleted and restored.fields["name"] == "Back"
    assert restored.version == "3"
    assert await system.get("customer", made.id) == restored


async def test_delete_of_deleted_or_unknown_records_is_fine(system: CustompmsSystem) -> None:
    made = await system.create("customer", {"name": "A"}, idempotency_key="k")

    await system.delete("customer", made.id)
    await system.delete("customer", made.id)
    await system.delete("customer", "never-existed")

    assert [r.deleted for r in (await system.read("customer", None)).records] == [True]


async def test_bad_values_are_refused_with_the_field(system: CustompmsSystem) -> None:
    with pytest.raises(InvalidValueError) as naive:
        await system.update("task", "t", {"due_at": datetime(2030, 1, 1, 12)})
    with pytest.raises(InvalidValueError) as refused:
        await system.create("customer", {"name": "A", "website": "ftp://x"}, idempotency_key="k")
    with pytest.raises(ValueError, match="unknown Custompms kind 'card'"):
        await system.read("card", None)

    assert naive.value.field == "due_at" and "time zone" in str(naive.value)
    assert refused.value.field == "website"


async def test_check_proves_the_token(system: CustompmsSystem, http: httpx.AsyncClient) -> None:
    await system.begin_cycle()
    await system.check()

    wrong = CustompmsSystem(CustompmsClient(CUSTOMPMS_ROOT, "wrong", http=http))
    with pytest.raises(AuthenticationError, match="check PMBRIDGE_CUSTOMPMS_TOKEN"):
        await wrong.check()
    await wrong.aclose()


async def _add_people(http: httpx.AsyncClient, token: str, *emails: str) -> None:
    # The connector reads no people yet: add them straight through the API.
    for email in emails:
        answer = await http.post(
            CUSTOMPMS_ROOT + "/people",
            json={"email": email, "name": email.split("@")[0]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201, answer.text


async def test_tasks_carry_tags_assignees_checklist_and_links(
    system: CustompmsSystem, project_id: str, http: httpx.AsyncClient, custompms_token: str
) -> None:
    await _add_people(http, custompms_token, "ann@example.com", "bob@example.com")
    fields = {
        "project_id": project_id,
        "title": "Launch",
        "tags": frozenset({"web", "copy"}),
        "assignees": ("Bob@Example.com", "ann@example.com"),
        "checklist": ({"id": None, "text": "Outline", "done": False}, {"text": "Draft"}),
        "links": ({"title": "Brief", "url": "https://docs.example/brief"},),
    }

    made = await system.create("task", fields, idempotency_key="lists")
    [read] = [r for r in (await system.read("task", None)).records if r.id == made.id]

    assert read.fields["tags"] == ("copy", "web")
    assert read.fields["assignees"] == ("ann@example.com", "bob@example.com")
    outline, draft = read.fields["checklist"]
    assert [(i["text"], i["done"]) for i in (outline, draft)] == [
        ("Outline", False),
        ("Draft", False),
    ]
    assert list(outline) == ["id", "text", "done"] and outline["id"] and draft["id"]
    [brief] = read.fields["links"]
    assert brief == {"id": brief["id"], "title": "Brief", "url": "https://docs.example/brief"}
    assert made.fields == read.fields
    # The canonical form is plain JSON.
    assert json.loads(json.dumps(read.fields["checklist"])) == [outline, draft]

    updated = await system.update(
        "task",
        made.id,
        {
            "tags": ("web",),
            "assignees": (),
            "checklist": ({**draft, "done": True}, {"text": "Review", "done": False}),
            "links": (),
        },
        version=made.version,
    )

    assert updated.version == "2"
    assert updated.fields["tags"] == ("web",) and updated.fields["assignees"] == ()
    done, review = updated.fields["checklist"]
    assert (done["id"], done["done"]) == (draft["id"], True)
    assert review["text"] == "Review" and review["id"] not in (outline["id"], draft["id"])
    assert updated.fields["links"] == ()
    assert (await system.get("task", made.id)) == updated
    with pytest.raises(StaleVersionError):
        await system.update("task", made.id, {"tags": ()}, version=made.version)


async def test_an_unknown_assignee_is_refused_naming_the_field(
    system: CustompmsSystem, project_id: str
) -> None:
    made = await system.create(
        "task", {"project_id": project_id, "title": "T"}, idempotency_key="t"
    )

    with pytest.raises(
        InvalidValueError, match=r"no person has the email 'no@one\.example'"
    ) as err:
        await system.update("task", made.id, {"assignees": ("no@one.example",)})
    assert err.value.field == "assignees"


async def test_a_server_without_the_optional_parts_gives_records_without_them(
    client: CustompmsClient, project_id: str
) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "T"}, "t")
    version_1 = {k: v for k, v in task.items() if k not in OPTIONAL}

    record = to_record("task", version_1)

    assert not OPTIONAL & set(record.fields)
    assert record.fields["title"] == "T"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("tags", "a,b", "tags is str, not a list"),
        ("assignees", [1], "assignees holds a value that is not a string"),
        ("checklist", [{"text": "no id"}], "a checklist item lacks id, done"),
        ("links", ["https://x.example"], "a links item is str, not an object"),
    ],
)
def test_malformed_lists_are_refused(name: str, value: object, message: str) -> None:
    item = {"id": "t1", "version": 1, "updated_at": "2030-01-01T00:00:00Z", name: value}

    with pytest.raises(ValueError, match=message):
        to_record("task", item)
