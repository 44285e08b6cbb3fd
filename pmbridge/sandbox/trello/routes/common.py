"""What every route module shares: the world dependency, JSON answers, ``fields`` handling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from pmbridge.sandbox.trello.answers import TrelloHTTPError, TrelloJSON, invalid_value
from pmbridge.sandbox.trello.params import Params
from pmbridge.sandbox.trello.render import (
    BOARD_DEFAULT,
    BOARD_FIELDS,
    CARD_DEFAULT,
    CARD_FIELDS,
    LIST_DEFAULT,
    LIST_FIELDS,
    select,
)
from pmbridge.sandbox.trello.world import World

# What a DELETE answers: an empty object (never a ``{"_value": …}`` wrapper).
DELETED: dict = {}


def get_world(request: Request) -> World:
    return request.app.state.world


WorldDep = Annotated[World, Depends(get_world)]


def referenced(params: Params, name: str, find: Callable[[str], dict]) -> dict:
    """The object a required id parameter (``idBoard``, ``idCard``…) names, found by
    ``find``; 400 ``invalid value for <name>`` when it is absent, malformed or unknown."""
    value = params.raw(name)
    if value is None or value == "":
        raise invalid_value(name)
    try:
        return find(str(value))
    except TrelloHTTPError:
        raise invalid_value(name) from None


def answer(body: Any) -> TrelloJSON:
    return TrelloJSON(body)


def fields_of(
    obj: dict,
    params: Params,
    *,
    all_fields: Sequence[str],
    default: Sequence[str],
    name: str = "fields",
) -> dict:
    """``obj`` cut down to the ``fields`` the client asked for (``id`` always kept)."""
    return select(obj, params.fields(name, all_fields=all_fields, default=default))


def value_answer(obj: dict, field: str) -> TrelloJSON | None:
    """``GET /…/{id}/{field}``: the object cut to that field (as ``fields=<field>`` would
    answer, the shape the OpenAPI gives); None when there is no such field."""
    if field not in obj:
        return None
    return answer({"id": obj["id"], field: obj[field]})


def board_answer(world: World, board: dict, params: Params) -> TrelloJSON:
    """A board as ``GET /boards/{id}`` answers it (the parent-board routes share this)."""
    return answer(
        fields_of(world.board_json(board), params, all_fields=BOARD_FIELDS, default=BOARD_DEFAULT)
    )


def card_body(world: World, card: dict, params: Params) -> dict:
    """A card as ``GET /cards/{id}`` answers it, with the client's ``fields``."""
    return fields_of(world.card_json(card), params, all_fields=CARD_FIELDS, default=CARD_DEFAULT)


def list_answer(world: World, lst: dict, params: Params) -> TrelloJSON:
    """A list as ``GET /lists/{id}`` answers it."""
    return answer(
        fields_of(world.list_json(lst), params, all_fields=LIST_FIELDS, default=LIST_DEFAULT)
    )
