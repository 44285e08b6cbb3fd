"""The ``/1`` routes of the Trello sandbox, one module per resource."""

from __future__ import annotations

from pmbridge.sandbox.trello.routes import (
    actions,
    batch,
    boards,
    cards,
    lists,
    members,
    organizations,
    tokens,
    webhooks,
)

ROUTERS = (
    members.router,
    organizations.router,
    boards.router,
    lists.router,
    cards.router,
    actions.router,
    batch.router,
    webhooks.router,
    tokens.router,
)
