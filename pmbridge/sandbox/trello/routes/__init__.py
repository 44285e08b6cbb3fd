"""The ``/1`` routes of the Trello sandbox, one module per resource."""

from __future__ import annotations

from pmbridge.sandbox.trello.routes import (
    actions,
    attachments,
    batch,
    boards,
    cards,
    checklists,
    customfields,
    labels,
    lists,
    members,
    organizations,
    people,
    search,
    tokens,
    webhooks,
)

# The routers of card and board parts come first: their paths are more specific than the
# per-field catch-alls (``/boards/{id}/{field}``, ``/cards/{id}/{collection}``).
ROUTERS = (
    labels.router,
    checklists.router,
    people.router,
    attachments.router,
    search.router,
    customfields.router,
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
