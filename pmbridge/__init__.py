"""pmbridge: two-way sync between a company's own project-management system and Trello.

The command line (``pmbridge``) is the usual way in; this is the library underneath it.
"""

from pmbridge.config import Settings, load_settings
from pmbridge.engine.report import CycleReport
from pmbridge.engine.run import CycleStopped, Engine, SyncOptions
from pmbridge.errors import PmbridgeError
from pmbridge.flows import FlowFile, load_flows
from pmbridge.records import Record
from pmbridge.store import Store, open_store
from pmbridge.wiring import open_engine

__version__ = "0.1.0"

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
