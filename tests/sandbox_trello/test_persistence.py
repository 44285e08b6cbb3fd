"""A sandbox started again on the same state file sees the same objects and actions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import SandboxConfig
from tests.sandbox_trello.conftest import ok


def _client(server: ServerThread, auth: dict) -> httpx.Client:
    return httpx.Client(
        base_url=server.url + "/1", headers={"Authorization": auth["authorization"]}
    )


def test_restart_with_the_same_file(
    tmp_path: Path, trello_config: SandboxConfig, trello_auth: dict
) -> None:
    config = trello_config.model_copy(update={"persist_path": tmp_path / "trello.json"})
    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        org = ok(api.post("/organizations", params={"displayName": "Kept"}))
        board = ok(api.post("/boards", params={"name": "Kept", "idOrganization": org["id"]}))
        todo = ok(api.get(f"/boards/{board['id']}/lists"))[0]
        card = ok(
            api.post("/cards", params={"idList": todo["id"], "name": "kept", "due": "2030-01-01"})
        )
        comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "hi"}))
        edited = ok(api.put(f"/actions/{comment['id']}", params={"text": "hi again"}))
        before = {
            "org": ok(api.get(f"/organizations/{org['id']}")),
            "board": ok(api.get(f"/boards/{board['shortLink']}")),
            "card": ok(api.get(f"/cards/{card['shortLink']}", params={"fields": "all"})),
            "feed": ok(api.get(f"/boards/{board['id']}/actions")),
        }
    assert json.loads(config.persist_path.read_text())["cards"][0]["name"] == "kept"

    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        assert ok(api.get(f"/organizations/{org['id']}")) == before["org"]
        assert ok(api.get(f"/boards/{board['shortLink']}")) == before["board"]
        assert (
            ok(api.get(f"/cards/{card['shortLink']}", params={"fields": "all"})) == before["card"]
        )
        assert ok(api.get(f"/boards/{board['id']}/actions")) == before["feed"]
        assert ok(api.get(f"/actions/{comment['id']}"))["data"]["text"] == edited["data"]["text"]
        # New objects continue the sequences: ids after the old ones, the next idShort.
        second = ok(api.post("/cards", params={"idList": todo["id"], "name": "new"}))
        assert second["id"] > card["id"]
        assert second["idShort"] == card["idShort"] + 1
        assert ok(api.get(f"/boards/{board['id']}/actions"))[0]["id"] > before["feed"][0]["id"]


def test_state_file_holds_no_tokens(
    tmp_path: Path, trello_config: SandboxConfig, trello_auth: dict
) -> None:
    config = trello_config.model_copy(update={"persist_path": tmp_path / "state.json"})
    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        ok(api.post("/organizations", params={"displayName": "Secretless"}))
    saved = config.persist_path.read_text()
    assert trello_auth["token"] not in saved
    assert trello_config.secret not in saved


def test_unreadable_state_file_is_a_clear_error(tmp_path: Path, trello_config) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    config = trello_config.model_copy(update={"persist_path": path})
    # A broken file must not silently start an empty sandbox (and later overwrite it).
    with pytest.raises(ValueError, match="cannot read the sandbox state file"):
        create_app(config)


def test_card_parts_survive_a_restart(
    tmp_path: Path, trello_config: SandboxConfig, trello_auth: dict
) -> None:
    config = trello_config.model_copy(update={"persist_path": tmp_path / "trello.json"})
    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        board = ok(api.post("/boards", params={"name": "Parts"}))
        todo = ok(api.get(f"/boards/{board['id']}/lists"))[0]
        card = ok(api.post("/cards", params={"idList": todo["id"], "name": "c"}))
        label = ok(
            api.post("/labels", params={"idBoard": board["id"], "name": "x", "color": "red"})
        )
        ok(api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]}))
        checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
        ok(api.post(f"/checklists/{checklist['id']}/checkItems", params={"name": "i"}))
        ok(api.post(f"/cards/{card['id']}/attachments", params={"url": "https://example.com"}))
        field = ok(
            api.post(
                "/customFields",
                json={"idModel": board["id"], "modelType": "board", "name": "F", "type": "text"},
            )
        )
        item = f"/cards/{card['id']}/customField/{field['id']}/item"
        ok(api.put(item, json={"value": {"text": "v"}}))
        paths = [
            f"/cards/{card['id']}?fields=all&customFieldItems=true",
            f"/cards/{card['id']}/checklists",
            f"/cards/{card['id']}/attachments",
            f"/boards/{board['id']}/labels",
            f"/boards/{board['id']}/customFields",
        ]
        before = [ok(api.get(path)) for path in paths]

    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        assert [ok(api.get(path)) for path in paths] == before


def test_a_state_file_from_before_card_parts_loads(
    tmp_path: Path, trello_config: SandboxConfig, trello_auth: dict
) -> None:
    config = trello_config.model_copy(update={"persist_path": tmp_path / "trello.json"})
    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        board = ok(api.post("/boards", params={"name": "Old", "defaultLabels": "false"}))
    state = json.loads(config.persist_path.read_text())
    for table in ("labels", "checklists", "attachments", "custom_fields"):
        del state[table]
    config.persist_path.write_text(json.dumps(state))
    with ServerThread(create_app(config)) as server, _client(server, trello_auth) as api:
        assert ok(api.get(f"/boards/{board['id']}"))["name"] == "Old"
        assert ok(api.get(f"/boards/{board['id']}/labels")) == []
