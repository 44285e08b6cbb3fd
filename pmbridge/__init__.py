"""pmbridge: two-way sync between a company's own project-management system and Trello.

The command line (``pmbridge``) is the usual way in; this is the library underneath it.
The names below are imported when first used, so ``pmbridge --help`` starts without loading
the engine, the store or the servers.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from pmbridge.config import Settings, load_settings
    from pmbridge.engine.report import CycleReport
    from pmbridge.engine.run import CycleStopped, Engine, SyncOptions
    from pmbridge.errors import PmbridgeError
    from pmbridge.flows import FlowFile, load_flows
    from pmbridge.records import Record
    from pmbridge.store import Store, open_store
    from pmbridge.wiring import open_engine

__version__ = "0.1.0"

# Each public name and the module it lives in.
_HOMES = {
    "CycleReport": "pmbridge.engine.report",
    "CycleStopped": "pmbridge.engine.run",
    "Engine": "pmbridge.engine.run",
    "FlowFile": "pmbridge.flows",
    "PmbridgeError": "pmbridge.errors",
    "Record": "pmbridge.records",
    "Settings": "pmbridge.config",
    "Store": "pmbridge.store",
    "SyncOptions": "pmbridge.engine.run",
    "load_flows": "pmbridge.flows",
    "load_settings": "pmbridge.config",
    "open_engine": "pmbridge.wiring",
    "open_store": "pmbridge.store",
}

__all__ = [
    "CycleReport",
    "CycleStopped",
    "Engine",
    "FlowFile",
    "PmbridgeError",
    "Record",
    "Settings",
    "Store",
    "SyncOptions",
    "__version__",
    "load_flows",
    "load_settings",
    "open_engine",
    "open_store",
]


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pmbridge' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
