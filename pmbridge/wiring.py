"""Putting the parts together: settings → flow file, store, both connectors, the engine.

The CLI, the demo and the benchmarks all build an engine the same way, through
``open_engine``; nothing else needs to know how a connector is constructed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pmbridge.config import Settings
from pmbridge.engine.run import Engine, Progress
from pmbridge.flows import FlowFile, load_flows
from pmbridge.store import Store, SystemMemo, open_store
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem
from pmbridge.systems.http import RetryPolicy
from pmbridge.systems.trello import TrelloClient, TrelloLimits, TrelloSystem
from pmbridge.systems.trello.parts import DEFAULT_CHECKLIST


def list_order(flow_file: FlowFile) -> list[str]:
    """The Trello list names a flow file maps to, in the order lists should be created."""
    names: list[str] = []
    for flow in flow_file.flows:
        for prop in flow.properties:
            if flow.trello == "card" and prop.trello == "list" and prop.values:
                names.extend(v for v in prop.values.values() if v not in names)
    return names


def checklist_name(flow_file: FlowFile) -> str:
    """The card checklist the flow file maps a task's checklist to ("Checklist")."""
    for flow in flow_file.flows:
        for prop in flow.properties:
            if flow.trello == "card" and prop.type == "items" and prop.checklist_name:
                return prop.checklist_name
    return DEFAULT_CHECKLIST


@dataclass
class Runtime:
    """An engine and what it was built from."""

    engine: Engine
    store: Store
    flow_file: FlowFile
    custompms: CustompmsSystem
    trello: TrelloSystem


def load_flow_file(settings: Settings) -> FlowFile:
    return load_flows(settings.flows)


@asynccontextmanager
async def open_engine(
    settings: Settings,
    *,
    progress: Progress | None = None,
    trello_limits: TrelloLimits | None = None,
    store: Store | None = None,
    retry: RetryPolicy | None = None,
    dry_run: bool = False,
) -> AsyncIterator[Runtime]:
    """An engine for ``settings``; closes its connections (and a store it opened) on exit.
    ``retry``: how both clients retry (default: each client's own policy). ``dry_run``:
    the connectors use what earlier runs kept in the store but keep nothing new."""
    settings.require("trello_key", "trello_token", "custompms_url", "custompms_token")
    flow_file = load_flow_file(settings)
    own_store = store is None
    store = store or open_store(settings.database_url)
    assert settings.trello_key and settings.trello_token and settings.custompms_token
    assert settings.custompms_url
    trello = TrelloSystem(
        TrelloClient(
            settings.trello_url,
            settings.trello_key.get_secret_value(),
            settings.trello_token.get_secret_value(),
            limits=trello_limits,
            retry=retry,
        ),
        list_order=list_order(flow_file) or ("To Do", "Doing", "Done"),
        checklist_name=checklist_name(flow_file),
        memo=SystemMemo(store, "trello", read_only=dry_run),
    )
    custompms = CustompmsSystem(
        CustompmsClient(
            settings.custompms_url, settings.custompms_token.get_secret_value(), retry=retry
        )
    )
    engine = Engine(
        flow_file,
        store,
        custompms,
        trello,
        custompms_url=settings.custompms_url,
        progress=progress,
    )
    try:
        yield Runtime(engine, store, flow_file, custompms, trello)
    finally:
        await trello.aclose()
        await custompms.aclose()
        if own_store:
            store.close()
