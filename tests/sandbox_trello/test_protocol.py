"""Transport conventions: parameter styles, trailing slashes, fields, errors, batch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox_trello.conftest import ok


def _text_error(reply: httpx.Response, status: int, body: str) -> None:
    assert (reply.status_code, reply.text) == (status, body)
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("style", ["query", "form", "json"])
def test_parameters_in_query_form_or_json(api: httpx.Client, board: dict, style: str) -> None:
    values = {"name": "Write docs", "desc": "all of them", "idList": board["lists"][0]["id"]}
    sent = {"query": {"params": values}, "form": {"data": values}, "json": {"json": values}}
    card = ok(api.post("/cards", **sent[style]))
    assert (card["name"], card["desc"], card["idList"]) == (
        "Write docs",
        "all of them",
        board["lists"][0]["id"],
    )
    changed = ok(api.put(f"/cards/{card['id']}", **{k: {"desc": "some"} for k in sent[style]}))
    assert changed["desc"] == "some"


def test_query_and_body_merge_with_the_body_winning(api: httpx.Client, board: dict) -> None:
    card = ok(
        api.post(
            "/cards",
            params={"idList": board["lists"][0]["id"], "name": "from query", "desc": "q"},
            json={"name": "from body"},
        )
    )
    assert (card["name"], card["desc"]) == ("from body", "q")


def test_trailing_slashes_are_accepted_everywhere(api: httpx.Client, board: dict) -> None:
    assert ok(api.get(f"/boards/{board['id']}/"))["id"] == board["id"]
    assert len(ok(api.get(f"/boards/{board['id']}/lists/"))) == 3
    card = ok(api.post("/cards/", params={"idList": board["lists"][0]["id"], "name": "c"}))
    assert ok(api.put(f"/cards/{card['id']}/", params={"name": "d"}))["name"] == "d"
    assert ok(api.get("/members/me/"))["username"] == "testuser"


def test_fields_selects_and_always_keeps_id(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "c"}))
    assert ok(api.get(f"/cards/{card['id']}", params={"fields": "name,due"})) == {
        "id": card["id"],
        "name": "c",
        "due": None,
    }
    everything = ok(api.get(f"/cards/{card['id']}", params={"fields": "all"}))
    assert {"address", "coordinates", "limits", "locationName"} <= set(everything)
    assert "address" not in ok(api.get(f"/cards/{card['id']}"))
    reply = api.get(f"/cards/{card['id']}", params={"fields": "name,nonsense"})
    _text_error(reply, 400, "invalid value for fields")


def test_success_is_json_with_charset(api: httpx.Client) -> None:
    reply = api.get("/members/me")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    ["/boards/123", "/cards/not-an-id!", "/lists/abcdefgh", "/actions/xyz", "/boards/zz/lists"],
)
def test_malformed_ids_answer_400_invalid_id(api: httpx.Client, path: str) -> None:
    _text_error(api.get(path), 400, "invalid id")


@pytest.mark.parametrize(
    "path",
    [
        "/boards/5f0000000000000000000000",
        "/cards/5f0000000000000000000000",
        "/cards/AbCdEfGh",
        "/lists/5f0000000000000000000000",
        "/organizations/nosuchworkspace",
        "/members/nobody",
    ],
)
def test_unknown_objects_answer_404(api: httpx.Client, path: str) -> None:
    _text_error(api.get(path), 404, "The requested resource was not found.")


def test_unknown_action_answers_model_not_found(api: httpx.Client) -> None:
    _text_error(api.get("/actions/5f0000000000000000000000"), 404, "model not found")


def test_unknown_routes_and_methods_answer_404(api: httpx.Client, board: dict) -> None:
    _text_error(api.get("/nothing/here"), 404, "The requested resource was not found.")
    _text_error(api.get("/boards"), 404, "The requested resource was not found.")
    # Lists have no DELETE; Trello answers an unsupported method with a 404.
    lst = board["lists"][0]["id"]
    _text_error(api.delete(f"/lists/{lst}"), 404, "The requested resource was not found.")
    _text_error(api.patch(f"/boards/{board['id']}"), 404, "The requested resource was not found.")


def test_bad_values_answer_400_naming_the_parameter(api: httpx.Client, board: dict) -> None:
    lst = board["lists"][0]["id"]
    _text_error(api.post("/cards", params={"name": "x"}), 400, "invalid value for idList")
    _text_error(api.post("/cards", params={"idList": "nope"}), 400, "invalid value for idList")
    _text_error(
        api.post("/cards", params={"idList": "5f0000000000000000000000"}),
        400,
        "invalid value for idList",
    )
    _text_error(
        api.post("/cards", params={"idList": lst, "pos": "middle"}), 400, "invalid value for pos"
    )
    _text_error(
        api.post("/cards", params={"idList": lst, "pos": "-5"}), 400, "invalid value for pos"
    )
    _text_error(
        api.post("/cards", params={"idList": lst, "due": "soon"}), 400, "invalid value for due"
    )
    _text_error(
        api.post("/cards", params={"idList": lst, "dueComplete": "maybe"}),
        400,
        "invalid value for dueComplete",
    )
    _text_error(api.post("/boards", params={}), 400, "invalid value for name")


def test_malformed_json_body_is_a_clear_400(api: httpx.Client) -> None:
    reply = api.post(
        "/organizations", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _text_error(reply, 400, "invalid JSON in the request body")


def test_batch_answers_each_url_in_order(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "c"}))
    urls = ",".join(
        [
            f"/cards/{card['id']}?fields=name,desc",
            f"/boards/{board['id']}",
            "/cards/5f0000000000000000000000",
            "/members/me?fields=username",
        ]
    )
    answers = ok(api.get("/batch", params={"urls": urls}))
    assert answers[0] == {"200": {"id": card["id"], "name": "c", "desc": ""}}
    assert answers[1]["200"]["name"] == "Project X"
    assert answers[2] == {"404": "The requested resource was not found."}
    assert answers[3] == {"200": {"id": "5f0000000000000000000b01", "username": "testuser"}}


def test_injected_errors_reach_each_url_of_a_batch_in_its_place(
    api: httpx.Client, board: dict, sandbox_app: Any
) -> None:
    sandbox_app.state.control.set_faults(error_rate=1.0, error_status=502, path_prefix="/1/boards/")
    sandbox_app.state.control.stats.reset()
    urls = f"/boards/{board['id']}/actions,/members/me?fields=username"
    answers = ok(api.get("/batch", params={"urls": urls}))
    assert answers == [
        {"502": "Bad Gateway"},
        {"200": {"id": "5f0000000000000000000b01", "username": "testuser"}},
    ]
    assert sandbox_app.state.control.stats.snapshot()["by_route"] == {"GET /1/batch": 1}


def test_batch_takes_at_most_ten_urls(api: httpx.Client) -> None:
    ok(api.get("/batch", params={"urls": ",".join(["/members/me"] * 10)}))
    _text_error(
        api.get("/batch", params={"urls": ",".join(["/members/me"] * 11)}),
        400,
        "invalid value for urls",
    )
    _text_error(api.get("/batch"), 400, "invalid value for urls")


def test_batch_needs_credentials(anonymous: httpx.Client) -> None:
    _text_error(anonymous.get("/batch", params={"urls": "/members/me"}), 401, "invalid key")
